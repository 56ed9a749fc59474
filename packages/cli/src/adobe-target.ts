/**
 * Which target the CLI acts on, and the Adobe Target side of it (issue 21).
 *
 * Selection rule: `--target profilegate|adobe` (or PROFILEGATE_TARGET) decides when given.
 * Otherwise any PROFILEGATE_ADOBE_* variable (or --adobe-* flag) chooses Adobe Target, unless a
 * Profilegate setting (--server/PROFILEGATE_SERVER, --client/PROFILEGATE_CLIENT,
 * --admin-key/PROFILEGATE_ADMIN_KEY) is set too: then the CLI stops (exit 2) naming both, rather
 * than guess whose token to regenerate. Nothing set: the Profilegate server (the default one).
 */
import {
  ADOBE_ENV,
  AdminApiError,
  AdobeConfigError,
  AdobeImsError,
  AdobeTargetClient,
  adobeRotationTarget,
  adobeTargetFromEnv,
  type AdobeAuthorizationScope,
  type RotationTarget,
} from '@profilegate/client';
import { EXIT, ExitError, UsageError } from './errors';

/** The two kinds of target. */
export type TargetKind = 'profilegate' | 'adobe';

/** The --adobe-* flags, each mirroring its PROFILEGATE_ADOBE_* variable (no flag for the secret). */
export interface AdobeOptions {
  adobeTenant?: string;
  adobeClientId?: string;
  adobeScopes?: string;
  adobeImsUrl?: string;
  adobeAdminUrl?: string;
}

/** Each --adobe-* flag and the variable it mirrors. */
const ADOBE_FLAGS: readonly [keyof AdobeOptions, string, string][] = [
  ['adobeTenant', '--adobe-tenant', ADOBE_ENV.tenant],
  ['adobeClientId', '--adobe-client-id', ADOBE_ENV.clientId],
  ['adobeScopes', '--adobe-scopes', ADOBE_ENV.scopes],
  ['adobeImsUrl', '--adobe-ims-url', ADOBE_ENV.imsUrl],
  ['adobeAdminUrl', '--adobe-admin-url', ADOBE_ENV.adminUrl],
];

interface SelectionOptions extends AdobeOptions {
  target?: string;
  server?: string;
  client?: string;
  adminKey?: string;
}

function given(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

/** The target of this run by the rule above; throws a UsageError when it is ambiguous. */
export function chooseTarget(options: SelectionOptions, env: NodeJS.ProcessEnv): TargetKind {
  const explicit = options.target ?? (given(env['PROFILEGATE_TARGET']) ? env['PROFILEGATE_TARGET']?.trim() : undefined);
  if (explicit !== undefined) {
    if (explicit !== 'profilegate' && explicit !== 'adobe') {
      throw new UsageError(`PROFILEGATE_TARGET must be profilegate or adobe, not ${JSON.stringify(explicit)}`);
    }
    return explicit;
  }
  const adobe = [
    ...ADOBE_FLAGS.filter(([key]) => given(options[key])).map(([, flag]) => flag),
    ...Object.values(ADOBE_ENV).filter((name) => given(env[name])),
  ];
  if (adobe.length === 0) return 'profilegate';
  const profilegate = [
    ...(given(options.server) ? ['--server'] : []),
    ...(given(options.client) ? ['--client'] : []),
    ...(given(options.adminKey) ? ['--admin-key'] : []),
    ...['PROFILEGATE_SERVER', 'PROFILEGATE_CLIENT', 'PROFILEGATE_ADMIN_KEY'].filter((name) => given(env[name])),
  ];
  if (profilegate.length > 0) {
    throw new UsageError(
      `Both a Profilegate server (${profilegate.join(', ')}) and Adobe Target (${adobe.join(', ')}) are ` +
        'configured; unset one, or choose with --target profilegate or --target adobe (or PROFILEGATE_TARGET).',
    );
  }
  return 'adobe';
}

/** The Adobe Target settings of a run: the variables, overridden by the --adobe-* flags. */
export class AdobeSettings {
  readonly client: AdobeTargetClient;

  constructor(options: AdobeOptions, env: NodeJS.ProcessEnv) {
    const merged: Record<string, string | undefined> = { ...env };
    for (const [key, , name] of ADOBE_FLAGS) if (given(options[key])) merged[name] = options[key];
    let found;
    try {
      found = adobeTargetFromEnv(merged);
      if (found === null)
        throw new AdobeConfigError(ADOBE_ENV.tenant, `Set ${ADOBE_ENV.tenant} to your Adobe Target tenant`);
    } catch (error) {
      if (error instanceof AdobeConfigError) {
        const flag = ADOBE_FLAGS.find(([, , name]) => name === error.variable)?.[1];
        throw new UsageError(`${error.message}${flag === undefined ? '' : ` (or pass ${flag})`}`);
      }
      throw error;
    }
    // One client per run: the IMS access token it gets is reused by every call of the run, and
    // never written anywhere (each run asks IMS once).
    this.client = new AdobeTargetClient(found);
  }

  get tenant(): string {
    return this.client.tenant;
  }

  /** E.g. `Adobe Target tenant acme (profile_api)`. */
  label(scope: AdobeAuthorizationScope): string {
    return `Adobe Target tenant ${this.tenant} (${scope})`;
  }

  /** The token of `scope` as a rotation target, its refusals turned into the CLI's exit codes. */
  target(scope: AdobeAuthorizationScope): RotationTarget {
    const inner = adobeRotationTarget(this.client, scope);
    return {
      ...inner,
      currentToken: () => adobeCall(() => inner.currentToken()),
      regenerate: (options) => adobeCall(() => inner.regenerate(options)),
    };
  }
}

const CREDENTIAL_HINT =
  `Check ${ADOBE_ENV.clientId} and ${ADOBE_ENV.clientSecret} (the credential page of Adobe's ` +
  'Developer Console shows both).';

/**
 * Runs an Adobe call; IMS refusing the client id or secret, or the Admin API refusing the IMS
 * token, become exit 4 (like a refused admin key); other refusals exit 1 with a hint. The
 * messages come from AdobeTargetClient, which never puts the secret or a token in them.
 */
export async function adobeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AdobeImsError) {
      if (error.status === 401 || error.errorCode === 'invalid_client') {
        throw new ExitError(EXIT.adminKey, error.errorCode, `${error.message}. ${CREDENTIAL_HINT}`, error.status);
      }
      const hint = error.errorCode === 'invalid_scope' ? ` Check ${ADOBE_ENV.scopes}.` : '';
      throw new ExitError(EXIT.refused, error.errorCode, `${error.message}.${hint}`, error.status);
    }
    if (error instanceof AdminApiError && error.status === 401) {
      throw new ExitError(
        EXIT.adminKey,
        error.errorCode,
        `${error.message}. Adobe's Admin API refused the credential's IMS access token. ${CREDENTIAL_HINT}`,
        error.status,
      );
    }
    if (error instanceof AdminApiError) {
      const hint =
        error.status === 403
          ? ` Check ${ADOBE_ENV.tenant} and that the credential's product profile may use Adobe Target.`
          : '';
      throw new ExitError(EXIT.refused, error.errorCode, `${error.message}${hint}`, error.status);
    }
    throw error;
  }
}
