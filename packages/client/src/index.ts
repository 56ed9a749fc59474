/**
 * @profilegate/client: what front ends on a developer's machine share (the CLI, the VS Code
 * extension): the typed admin API client, the token-reference scanner and replacer, the token
 * format constants, the client-code rule and the `batch=` form recogniser. It loads no database
 * driver and no JWT library, so it installs without a compiler and a bundler takes it whole; the
 * optional `@profilegate/native-scan` addon only speeds up scanning many files.
 */
export {
  AdminApiError,
  AdminClient,
  ServerUnreachableError,
  type AdminAuditEvent,
  type AdminClientOptions,
  type AuthenticationSettings,
  type BatchCallOptions,
  type BatchRowFailure,
  type BatchStatus,
  type BatchSubmitted,
  type ProfileTokenInfo,
} from './admin-client';
export {
  ADOBE_AUTHORIZATION_SCOPES,
  ADOBE_TARGET_MEDIA_TYPE,
  AdobeImsError,
  AdobeTargetClient,
  DEFAULT_ADOBE_ADMIN_URL,
  DEFAULT_ADOBE_IMS_SCOPES,
  DEFAULT_ADOBE_IMS_URL,
  type AdobeAuthorizationScope,
  type AdobeTargetClientOptions,
  type AdobeToken,
} from './adobe/adobe-client';
export { ADOBE_ENV, AdobeConfigError, adobeTargetFromEnv } from './adobe/adobe-env';
export {
  ProfileClient,
  type ExportCallOptions,
  type ExportDownload,
  type FetchedProfile,
  type ProfileIdKind,
} from './profile-client';
export { batchFormPrefix, type BatchFormPrefix } from './batch-form';
export { CLIENT_CODE_PATTERN, isValidClientCode } from './client-code';
export { displayJson, displayText } from './display-text';
export { daysLeft, describeSeconds, describeTimeLeft } from './durations';
export { DEFAULT_EXCLUDES, isGlob } from './rotation/glob';
export {
  decodeJwtPayloadUnverified,
  findTokensOfClient,
  isLikelyTokenOfClient,
  tokenMarkerOf,
  unverifiedExpiry,
} from './rotation/jwt-client';
export { maskToken } from './rotation/mask';
export {
  encodeToken,
  findTokenReferences,
  replaceTokens,
  type ReplaceResult,
  type TokenEncoding,
  type TokenReference,
} from './rotation/references';
export {
  DEFAULT_MAX_FILE_BYTES,
  updateTokenInFiles,
  type ChangedFile,
  type SkipReason,
  type UpdateTokenInFilesOptions,
  type UpdateTokenInFilesResult,
} from './rotation/update-files';
export {
  RotationFilesError,
  TOKEN_HISTORY_LIMIT,
  UnsupportedByTargetError,
  adobeRotationTarget,
  nextTokenHistory,
  profilegateRotationTarget,
  rotateTarget,
  type RegenerateOptions,
  type RotateTargetOptions,
  type RotateTargetResult,
  type RotationCapabilities,
  type RotationTarget,
  type TargetToken,
} from './rotation/rotation-target';
export { type FileSelection } from './rotation/walk';
export { TOKEN_ALGORITHM, TOKEN_AUDIENCE, TOKEN_ISSUER } from './token-format';
export { PROFILE_TOKEN_LIMITS } from './token-limits';
