/**
 * The limits of a token generation (API.md 3.1), in seconds, as the server checks them: front ends
 * check flags against them first, so a mistake names the flag the user typed, not a body field.
 * Core's TOKEN_LIMITS holds the same values (a core test keeps them equal).
 */
export const PROFILE_TOKEN_LIMITS = Object.freeze({
  /** Shortest lifetime (`expiresIn`): 5 minutes. */
  minExpiresIn: 300,
  /** Longest lifetime (`expiresIn`): 365 days. */
  maxExpiresIn: 31_536_000,
  /** Lifetime when none is given: 90 days. */
  defaultExpiresIn: 7_776_000,
  /** Longest grace (`previousTokenGraceSeconds`): 1 day. */
  maxGrace: 86_400,
});
