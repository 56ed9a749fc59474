/**
 * What the front ends rotate: a Profilegate server's profile token or an Adobe Target token
 * (profile_api or debug_tools), behind one interface. Both are read before regenerating, so the
 * exact value to replace in files is known; copies of Adobe's opaque tokens are found by value
 * only (the token read first, and the ones kept from earlier rotations), never by guessing, while
 * a Profilegate target also recognises its client's older JWTs.
 */
import type { AdminClient, ProfileTokenInfo } from '../admin-client';
import type { AdobeAuthorizationScope, AdobeTargetClient, AdobeToken } from '../adobe/adobe-client';
import { updateTokenInFiles, type UpdateTokenInFilesOptions, type UpdateTokenInFilesResult } from './update-files';

/** What a target can do beyond show and generate. */
export interface RotationCapabilities {
  /** DELETE: no token works until a new one is generated. */
  revoke: boolean;
  /** The replaced token keeps working for a grace period. */
  grace: boolean;
  /** The Require Authentication setting. */
  toggle: boolean;
  /** The lifetime of a new token can be chosen. */
  expiresIn: boolean;
}

/** A token as a rotation target shows it. */
export interface TargetToken {
  accessToken: string;
  /** Seconds left. */
  expiresIn: number;
  /** ISO times, when the target tells them (Profilegate does, Adobe does not). */
  expiresAt?: string;
  createdAt?: string;
  createdBy?: string;
}

/** Options of a regeneration; a target without the capability refuses them. */
export interface RegenerateOptions {
  expiresIn?: number;
  previousTokenGraceSeconds?: number;
}

/** A place whose token the front ends show, regenerate and replace in files. */
export interface RotationTarget {
  kind: 'profilegate' | 'adobe';
  /** For messages, e.g. `client acme` or `Adobe Target tenant acme (profile_api)`. */
  label: string;
  capabilities: RotationCapabilities;
  /**
   * When set, other profile tokens of this client found in files are old too (Profilegate JWTs
   * carry their client); undefined for opaque tokens, found by value only.
   */
  recognisesCopiesOf: string | undefined;
  /** The current token, or null when there is none. */
  currentToken(): Promise<TargetToken | null>;
  /** A new token; the previous one stops working (after the grace period, where there is one). */
  regenerate(options?: RegenerateOptions): Promise<TargetToken>;
}

/** A capability the target does not have was asked for. */
export class UnsupportedByTargetError extends Error {
  constructor(
    readonly capability: keyof RotationCapabilities,
    message: string,
  ) {
    super(message);
    this.name = 'UnsupportedByTargetError';
  }
}

/** A Profilegate server's profile token of one client. */
export function profilegateRotationTarget(api: AdminClient, client: string): RotationTarget {
  const shown = (info: ProfileTokenInfo): TargetToken => ({
    accessToken: info.accessToken,
    expiresIn: info.expiresIn,
    expiresAt: info.expiresAt,
    createdAt: info.createdAt,
    createdBy: info.createdBy,
  });
  return {
    kind: 'profilegate',
    label: `client ${client}`,
    capabilities: { revoke: true, grace: true, toggle: true, expiresIn: true },
    recognisesCopiesOf: client,
    async currentToken() {
      const info = await api.getToken();
      return info === null ? null : shown(info);
    },
    async regenerate(options = {}) {
      return shown(await api.generateToken(options));
    },
  };
}

/** An Adobe Target tenant's token of one authorization scope. */
export function adobeRotationTarget(adobe: AdobeTargetClient, scope: AdobeAuthorizationScope): RotationTarget {
  const shown = (token: AdobeToken): TargetToken => ({ accessToken: token.accessToken, expiresIn: token.expiresIn });
  return {
    kind: 'adobe',
    label: `Adobe Target tenant ${adobe.tenant} (${scope})`,
    capabilities: { revoke: false, grace: false, toggle: false, expiresIn: false },
    recognisesCopiesOf: undefined,
    async currentToken() {
      const token = await adobe.getToken(scope);
      return token === null ? null : shown(token);
    },
    async regenerate(options = {}) {
      if (options.previousTokenGraceSeconds !== undefined && options.previousTokenGraceSeconds > 0) {
        throw new UnsupportedByTargetError(
          'grace',
          'Adobe Target has no grace period: the previous token stops working as soon as a new one is generated',
        );
      }
      if (options.expiresIn !== undefined) {
        throw new UnsupportedByTargetError('expiresIn', 'Adobe Target chooses the lifetime of its tokens itself');
      }
      return shown(await adobe.regenerateToken(scope));
    },
  };
}

/** How many earlier tokens are kept to find their copies later. */
export const TOKEN_HISTORY_LIMIT = 10;

/**
 * The earlier tokens to keep after a rotation: the replaced ones first, then the older history,
 * without the new token, duplicates or empties, at most `limit`.
 */
export function nextTokenHistory(
  history: readonly string[],
  replaced: readonly string[],
  newToken: string,
  limit = TOKEN_HISTORY_LIMIT,
): string[] {
  const kept: string[] = [];
  for (const token of [...replaced, ...history]) {
    if (token !== '' && token !== newToken && !kept.includes(token)) kept.push(token);
  }
  return kept.slice(0, limit);
}

/** Options of rotateTarget: the files to update (as updateTokenInFiles takes them) and the history. */
export interface RotateTargetOptions extends Omit<
  UpdateTokenInFilesOptions,
  'oldTokens' | 'newToken' | 'client' | 'dryRun'
> {
  /** Tokens of this target replaced by earlier rotations, whose copies may still be in files. */
  earlierTokens?: readonly string[];
  /** Passed to regenerate. */
  regenerate?: RegenerateOptions;
}

/** Result of rotateTarget. */
export interface RotateTargetResult {
  /** The token read before regenerating (null when there was none). */
  previous: TargetToken | null;
  token: TargetToken;
  /** Undefined when no files were given. */
  files: UpdateTokenInFilesResult | undefined;
  /** What to keep as `earlierTokens` for the next rotation. */
  history: string[];
}

/**
 * Reads the current token, regenerates, then replaces every copy of the old tokens (the one read
 * first and `earlierTokens`; for Profilegate also its client's other JWTs) in the selected files.
 * When updating the files fails, the error says so and carries the new token in `token` of the
 * thrown RotationFilesError, so the caller can still store and show it.
 */
export async function rotateTarget(target: RotationTarget, options: RotateTargetOptions): Promise<RotateTargetResult> {
  const { earlierTokens = [], regenerate, ...selection } = options;
  const previous = await target.currentToken();
  const oldTokens = nextTokenHistory(earlierTokens, previous === null ? [] : [previous.accessToken], '', Infinity);
  const token = await target.regenerate(regenerate);
  const history = nextTokenHistory(earlierTokens, previous === null ? [] : [previous.accessToken], token.accessToken);
  const hasFiles = (selection.files?.length ?? 0) > 0 || selection.root !== undefined;
  let files: UpdateTokenInFilesResult | undefined;
  if (hasFiles) {
    try {
      files = await updateTokenInFiles({
        ...selection,
        oldTokens: oldTokens.filter((t) => t !== token.accessToken),
        newToken: token.accessToken,
        ...(target.recognisesCopiesOf === undefined ? {} : { client: target.recognisesCopiesOf }),
      });
    } catch (error) {
      throw new RotationFilesError(token, history, error);
    }
  }
  return { previous, token, files, history };
}

/**
 * The token was regenerated but updating the files failed; `token` is the new one and `history`
 * what to keep. Both are non-enumerable, so logging or inspecting the error does not print them.
 */
export class RotationFilesError extends Error {
  declare readonly token: TargetToken;
  declare readonly history: string[];

  constructor(token: TargetToken, history: string[], cause: unknown) {
    super(
      `A new token was generated but updating the files failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'RotationFilesError';
    Object.defineProperty(this, 'token', { value: token, enumerable: false });
    Object.defineProperty(this, 'history', { value: history, enumerable: false });
  }
}
