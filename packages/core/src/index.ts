/** @profilegate/core: profiles, batches, stores, settings, tokens, permissions and audit. */
export * from './errors';
export * from './clock';
export * from './profiles/types';
export * from './profiles/rules';
export * from './profiles/merge';
export * from './profiles/ids';
export * from './batch/parse';
export * from './batch/spool';
export * from './store/types';
export { storableText, textProblem } from './storable-text';
export { FAILURE_LOG_SLACK, KEPT_ID_CHARS, MAX_FAILURE_LOG_BYTES, failureMessage } from './store/failure-log';
export * from './store/memory';
export * from './store/sqlite';
export * from './store/sqlite-schema';
export * from './tokens/bearer';
export * from './tokens/keys';
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
export {
  SigningKeyMismatchError,
  agreeOnSigningKeys,
  signingKeyFingerprint,
  type KeyAgreement,
  type KeyAgreementOptions,
} from './tokens/key-agreement';
export { LiveSigningKeys, openSigningKeys, type OpenSigningKeysOptions, type ReloadOutcome } from './tokens/live-keys';
export * from './tokens/service';
export * from './permissions';
export * from './audit';
export * from './profile-service';
export * from './settings-service';
export * from './store/postgres';
export { OptionChecks, OptionsError, type NumberBounds } from './options';
export type { TokenStatus } from './tokens/service';
export { ProfileAccess, type ProfileAccessGrant, type ProfileAccessOptions } from './access';
