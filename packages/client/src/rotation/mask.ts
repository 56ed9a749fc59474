/** Shortest value that is shown as first 6 … last 4; anything shorter is fully hidden. */
const MIN_MASKABLE_LENGTH = 16;

/**
 * A token as people may see it: `eyJhbG…Xy9Q` (first 6 and last 4 characters). Short values give
 * `…` only, since showing 10 characters of them would show most of the secret.
 */
export function maskToken(token: string): string {
  if (token.length < MIN_MASKABLE_LENGTH) return '…';
  return `${token.slice(0, 6)}…${token.slice(-4)}`;
}
