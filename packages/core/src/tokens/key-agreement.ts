import { createHmac } from 'node:crypto';
import type { SigningKeyChanges, SigningKeyRecord, Store } from '../store/types';
import { describeKeyOrigin, type SigningKeyOrigin, type SigningKeySet } from './key-file';
import type { SigningKey } from './keys';

/** What the fingerprint MACs: fixed, so equal keys give equal fingerprints; versioned, should it ever change. */
const FINGERPRINT_LABEL = 'profilegate signing key fingerprint v1';

/**
 * The fingerprint of a signing key: HMAC-SHA256 of a fixed label under the key, 128 bits in
 * base64url. Equal keys give equal fingerprints; without the key, it tells nothing about it
 * (HMAC is a pseudo-random function of the key), and 32 random bytes cannot be guessed from it.
 */
export function signingKeyFingerprint(key: SigningKey): string {
  return createHmac('sha256', key.key).update(FINGERPRINT_LABEL).digest('base64url').slice(0, 22);
}

/** This instance's signing keys do not match those recorded in the shared database. */
export class SigningKeyMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyMismatchError';
  }
}

/** Options of {@link agreeOnSigningKeys}. */
export interface KeyAgreementOptions {
  origin: SigningKeyOrigin;
  /** Recorded as `registeredBy` of the keys this instance registers, e.g. `host/pid with the signing key file …`. */
  registeredBy: string;
  /** Epoch milliseconds. */
  now: number;
  /**
   * The kids a running instance holds now (a reload); leave out when starting. Starting, every
   * key recorded in use must be in the set; reloading, only those held now must stay in it.
   */
  held?: ReadonlySet<string>;
}

/** What the instance may use after agreeing with the store. */
export interface KeyAgreement {
  /** The keys of the set that the store does not say are retired. */
  keys: SigningKey[];
  /** Kids of the set left out because the store says they are retired. */
  retiredInStore: string[];
  /** Records in use that the set lacks (only on a reload: when starting, they refuse). */
  missing: SigningKeyRecord[];
  records: SigningKeyRecord[];
}

const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);

function registeredBy(records: SigningKeyRecord[]): string {
  return [...new Set(records.map((r) => `${r.registeredBy} on ${new Date(r.registeredAt).toISOString()}`))].join('; ');
}

/** What to do when this instance's keys differ from the recorded ones, naming where its keys come from. */
function howToFix(origin: SigningKeyOrigin, records: SigningKeyRecord[]): string {
  const source =
    records.length > 0 ? `of the instance that registered it (${registeredBy(records)})` : 'of a running instance';
  if ('file' in origin) {
    return `Copy the signing key file ${source} to ${origin.file}, or give this instance the same keys another way, then start again.`;
  }
  return `Set ${origin.variable} to the content of the signing key file ${source}, then start again.`;
}

function conflict(origin: SigningKeyOrigin, record: SigningKeyRecord): SigningKeyMismatchError {
  return new SigningKeyMismatchError(
    `Signing key ${record.kid} of the ${describeKeyOrigin(origin)} is not the key the database knows by that id ` +
      `(its fingerprint differs): this instance's signing keys differ from the other instances'. ${howToFix(origin, [record])}`,
  );
}

/** The error of an instance that lacks keys the database says are in use. */
export function missingKeysError(
  origin: SigningKeyOrigin,
  missing: SigningKeyRecord[],
  what?: string,
): SigningKeyMismatchError {
  const kids = missing.map((r) => r.kid).join(', ');
  const lacking = what ?? `the ${describeKeyOrigin(origin)} does not have ${plural(missing.length, 'it', 'them')}`;
  const retire =
    'file' in origin
      ? `run retireSigningKey(${JSON.stringify(origin.file)}, kid) of @profilegate/core (it creates the file with a new key ` +
        `when missing), or add {"kid":"<kid>","retiredAt":<epoch ms>} to the keys of ${origin.file}`
      : `add {"kid":"<kid>","retiredAt":<epoch ms>} to the keys of ${origin.variable}`;
  return new SigningKeyMismatchError(
    `The database says signing ${plural(missing.length, 'key', 'keys')} ${kids} ${plural(missing.length, 'is', 'are')} in use, ` +
      `but ${lacking}: tokens signed by the other instances would get 401 here. ${howToFix(origin, missing)} ` +
      `If a key is lost for good, retire it instead: ${retire} (every token it signed then stops working).`,
  );
}

/** The warning of a running instance that lacks keys another instance registered since it started. */
export function lackingKeysWarning(origin: SigningKeyOrigin, missing: SigningKeyRecord[]): string {
  const n = missing.length;
  const target = 'file' in origin ? `copy it to ${origin.file}` : `set ${origin.variable} to it and restart`;
  return (
    `The database says signing ${plural(n, 'key', 'keys')} ${missing.map((r) => r.kid).join(', ')} ` +
    `${plural(n, 'is', 'are')} in use (registered by ${registeredBy(missing)}), but the ${describeKeyOrigin(origin)} ` +
    `does not have ${plural(n, 'it', 'them')}: tokens signed with ${plural(n, 'it', 'them')} get 401 here. ` +
    `Take the signing key file of that instance and ${target}.`
  );
}

/**
 * Checks a key set against the signing keys recorded in `store`, and records what is new, in
 * one `syncSigningKeys`: a kid recorded with another fingerprint, or (when starting) a recorded
 * key in use that the set lacks, throws SigningKeyMismatchError and writes nothing. Otherwise the
 * set's new keys are registered and its retired ids recorded retired.
 */
export async function agreeOnSigningKeys(
  store: Store,
  set: SigningKeySet,
  options: KeyAgreementOptions,
): Promise<KeyAgreement> {
  const { origin, held } = options;
  const fingerprints = new Map(set.keys.map((key) => [key.kid, signingKeyFingerprint(key)]));
  const retiring = new Set(set.retired.map((r) => r.kid));
  let missing: SigningKeyRecord[] = [];

  const decide = (recorded: SigningKeyRecord[]): SigningKeyChanges => {
    const byKid = new Map(recorded.map((r) => [r.kid, r]));
    for (const [kid, fingerprint] of fingerprints) {
      const record = byKid.get(kid);
      if (record !== undefined && record.retiredAt === null && record.fingerprint !== fingerprint) {
        throw conflict(origin, record);
      }
    }
    missing = recorded.filter((r) => r.retiredAt === null && !fingerprints.has(r.kid) && !retiring.has(r.kid));
    if (held === undefined && missing.length > 0) throw missingKeysError(origin, missing);
    const dropped = missing.filter((r) => held?.has(r.kid));
    if (dropped.length > 0) {
      throw new SigningKeyMismatchError(
        `The ${describeKeyOrigin(origin)} no longer has signing ${plural(dropped.length, 'key', 'keys')} ` +
          `${dropped.map((r) => r.kid).join(', ')}, which the database says ${plural(dropped.length, 'is', 'are')} in use. ` +
          'To retire a key, mark it retired ({"kid":"<kid>","retiredAt":<epoch ms>}, or retireSigningKey) instead of deleting it.',
      );
    }
    const usable = set.keys.filter((key) => byKid.get(key.kid)?.retiredAt == null);
    if (usable.length === 0) {
      throw new SigningKeyMismatchError(
        `The ${describeKeyOrigin(origin)} has no key left: the database says every key of it is retired. ` +
          'Add a new key, or copy the key file of a running instance, then start again.',
      );
    }
    return {
      by: options.registeredBy,
      register: usable
        .filter((key) => !byKid.has(key.kid))
        .map((key) => ({ kid: key.kid, fingerprint: fingerprints.get(key.kid)! })),
      retire: set.retired.filter((r) => byKid.get(r.kid)?.retiredAt == null).map((r) => r.kid),
    };
  };

  const records = await store.syncSigningKeys(decide, options.now);
  const retiredKids = new Set(records.filter((r) => r.retiredAt !== null).map((r) => r.kid));
  return {
    keys: set.keys.filter((key) => !retiredKids.has(key.kid)),
    retiredInStore: set.keys.filter((key) => retiredKids.has(key.kid)).map((key) => key.kid),
    missing,
    records,
  };
}
