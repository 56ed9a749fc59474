/**
 * The shape of a client code (the `:client` of the Profile API routes, API.md): 1 to 64 characters
 * of a-z, 0-9 and `-`, starting with a letter or digit. The VS Code extension's manifest repeats
 * it as the `profilegate.client` setting's pattern (a unit test keeps the two equal).
 */
export const CLIENT_CODE_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Whether a client code has the shape API.md allows. */
export function isValidClientCode(code: string): boolean {
  return CLIENT_CODE_PATTERN.test(code);
}
