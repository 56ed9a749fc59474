/**
 * @profilegate/core: profiles, batches, stores, settings, tokens, permissions and audit. Every
 * export is named; what only core's own modules and tests use (schema migrations, the batch spool,
 * the failure log, the text rule's helpers, header sanitising) is imported by path. No published
 * declaration reachable from here names a database driver's types.
 */
// Typed errors (status, code), mapped to the contract's bodies by the middleware.
export {
  BatchRejectedError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  ProfilegateError,
  ValidationError,
} from './errors';
// The clock every service reads.
export { systemClock, type Clock } from './clock';
// Profiles: the shapes.
export {
  type AttributeValue,
  type BatchKey,
  type Profile,
  type ProfileKey,
  type ProfileUpdate,
} from './profiles/types';
// Profiles: the rules of ids, attribute names and values, client codes.
export {
  PROFILE_LIMITS,
  attributeNameProblem,
  attributeValueProblem,
  isValidClientCode,
  normalizeAttributeName,
  profileIdProblem,
} from './profiles/rules';
// Profiles: new pcIds.
export { newPcId } from './profiles/ids';
// Batches: the streaming parser.
export { parseBatch } from './batch/parse';
// Batches: the parser's options, limits and rows.
export {
  DEFAULT_BATCH_LIMITS,
  type BatchFormat,
  type BatchLimits,
  type ParseBatchOptions,
  type ParsedRow,
  type RowFailure,
} from './batch/types';
// The Store interface and what its methods take and give.
export {
  DEFAULT_SETTINGS,
  MAX_REPORTED_FAILURES,
  MAX_RETENTION_DAYS,
  type ApplyBatchOptions,
  type AuditEvent,
  type BatchFailure,
  type BatchRecord,
  type BatchRow,
  type BatchRows,
  type EncodedBatchRows,
  type PrestagedBatch,
  type BatchState,
  type DecideSigningKeys,
  type GracedToken,
  type LinkOutcome,
  type NewBatch,
  type Settings,
  type SettingsChange,
  type SigningKeyChanges,
  type SigningKeyRecord,
  type Store,
  type StoreChange,
  type TokenRecord,
  type TokenState,
  type UpdateOutcome,
  type UpdateProfileOptions,
} from './store/types';
// The in-memory store (tests, demos).
export { MemoryStore } from './store/memory';
// The embedded SQLite store.
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite';
// RFC 6750 bearer tokens: extraction and typed refusals.
export { TokenError, extractBearerToken, type TokenErrorReason } from './tokens/bearer';
// Signing keys: the ring and new keys.
export { KeyRing, generateSigningKey, type SigningKey } from './tokens/keys';
// Signing keys: the key file.
export {
  activateSigningKey,
  addSigningKey,
  createSigningKeyFile,
  describeKeyOrigin,
  loadOrCreateKeyRing,
  parseSigningKeys,
  readSigningKeyFile,
  retireSigningKey,
  rotateSigningKey,
  type RetiredSigningKey,
  type SigningKeyOrigin,
  type SigningKeySet,
} from './tokens/key-file';
// Signing keys: agreement between instances sharing a store.
export {
  SigningKeyMismatchError,
  agreeOnSigningKeys,
  signingKeyFingerprint,
  type KeyAgreement,
  type KeyAgreementOptions,
} from './tokens/key-agreement';
// Signing keys: the key file reloaded while running.
export { LiveSigningKeys, openSigningKeys, type OpenSigningKeysOptions, type ReloadOutcome } from './tokens/live-keys';
// The profile token's lifecycle.
export {
  TOKEN_LIMITS,
  TokenService,
  type GenerateTokenOptions,
  type IssuedToken,
  type ReplacedToken,
  type TokenServiceOptions,
  type TokenStatus,
  type VerifiedToken,
} from './tokens/service';
// Permissions: who may do what.
export {
  ADMIN_ACTIONS,
  ROLES,
  authorize,
  isActor,
  type Actor,
  type AdminAction,
  type Decision,
  type Role,
} from './permissions';
// The audit log.
export { ANONYMOUS_ACTOR, AuditLog, MAX_AUDIT_LIMIT, type AuditLogOptions, type RecordedAction } from './audit';
// Profiles: reads, updates and batches over a store.
export {
  ProfileService,
  notFoundMessage,
  type BatchStatusRecord,
  type ProfileServiceOptions,
  type SubmitBatchOptions,
  type SubmittedBatch,
} from './profile-service';
// The Require Authentication setting.
export { RETENTION_RULE, SettingsService, isRetentionDays } from './settings-service';
// Retention: the sweep that deletes expired profiles (API.md 5).
export {
  DEFAULT_SWEEP_BATCH_SIZE,
  DEFAULT_SWEEP_INTERVAL_MS,
  RETENTION_ACTOR,
  RetentionSweeper,
  type RetentionSweeperOptions,
  type SweepTimers,
} from './retention-sweeper';
// The PostgreSQL store (several instances on one database).
export { DEFAULT_BATCH_LEASE_MS, PostgresStore, type PostgresStoreOptions } from './store/postgres';
// Options checked at construction, with one error naming the option as the caller spelled it.
export { OptionChecks, OptionsError, type NumberBounds } from './options';
// The access decision: Require Authentication, the token, the denial audit.
export { ProfileAccess, type ProfileAccessGrant, type ProfileAccessOptions } from './access';
export { PROFILE_ID_HASH_LABEL, profileIdHash } from './profile-deletion';
// The export of a client's profiles (API.md 5).
export {
  ExportNotPossibleError,
  MAX_CSV_ATTRIBUTES,
  csvCell,
  csvExportProblem,
  csvHeader,
  csvHeaderName,
  csvRow,
  parseExportRequest,
  type ExportFormat,
  type ExportKey,
  type ExportRequest,
} from './profile-export';
