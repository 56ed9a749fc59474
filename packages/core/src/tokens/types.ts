/** The values the token lifecycle hands out: limits, issued, verified, replaced tokens. */
import type { TokenRecord } from '../store/types';

/** Limits of API.md 3.1, in seconds. */
export const TOKEN_LIMITS = Object.freeze({
  minExpiresIn: 300,
  maxExpiresIn: 31_536_000,
  defaultExpiresIn: 7_776_000,
  maxGrace: 86_400,
});

/** A token as handed to an admin: the JWT and what the store keeps of it. */
export interface IssuedToken {
  accessToken: string;
  record: TokenRecord;
}

/** A token that passed `verify`. */
export interface VerifiedToken {
  client: string;
  jti: string;
  kid: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Set when the token was replaced and works only until then (epoch milliseconds). */
  graceUntil: number | null;
}

/** A replaced token still in its grace period, as admins may see it. */
export interface ReplacedToken {
  /** The first 8 characters of its `jti`, as in the audit log. */
  jtiPrefix: string;
  /** The token masked (`eyJhbG…Xy9Q`), or null when its signing key is gone or the state predates it. */
  maskedToken: string | null;
  /** When it stops working (epoch milliseconds). */
  graceUntil: number;
}

/** A client's tokens as admins see them (see `TokenService.status`). */
export interface TokenStatus {
  /** The current token's record, or null when there is none or it has expired. */
  current: TokenRecord | null;
  replaced: ReplacedToken[];
}

/** Options of `generate`. */
export interface GenerateTokenOptions {
  /** Lifetime in whole seconds, TOKEN_LIMITS.minExpiresIn to maxExpiresIn; default defaultExpiresIn. */
  expiresInSeconds?: number;
  /** How long the replaced token keeps working, 0 to TOKEN_LIMITS.maxGrace whole seconds; default 0. */
  previousTokenGraceSeconds?: number;
  /** Id of the admin generating it (recorded as `createdBy` and in the audit log). */
  actor: string;
}
