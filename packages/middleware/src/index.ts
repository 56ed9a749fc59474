/** @profilegate/middleware: the Adobe-compatible Profile API for Express 4.17+ and 5. */
export { profileApi, type ProfileApiRouter } from './router';
export type { ProfileApiOptions, AuthenticateAdmin, BulkRateLimit } from './options';
export { OptionsError } from '@profilegate/core';
export { adminKeyAuthenticator, type AdminKey } from './admin-keys';
export { requireProfileToken, type RequireProfileTokenOptions } from './require-token';
export { profileTracker, type ProfileTrackerOptions } from './tracker';
export { openApiDocument } from './openapi';
export { handleExpectContinue } from './expect-continue';
