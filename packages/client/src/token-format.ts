/** The `iss` of every profile token. */
export const TOKEN_ISSUER = 'profilegate';
/** The `aud` of every profile token (the `authorizationScope` of API.md 3.1). */
export const TOKEN_AUDIENCE = 'profile_api';
/** The only algorithm signed and accepted. */
export const TOKEN_ALGORITHM = 'HS256';
