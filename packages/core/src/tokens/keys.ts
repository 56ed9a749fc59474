import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

/** An HS256 signing key and its id (the JWT header's `kid`). */
export interface SigningKey {
  kid: string;
  key: KeyObject;
  /** Epoch milliseconds. The newest key that is not pending signs new tokens. */
  createdAt: number;
  /**
   * A key being distributed to every instance: it verifies tokens but signs none yet, so that no
   * instance issues a token that another instance cannot verify (docs/multi-instance.md).
   */
  pending?: boolean;
}

/** Bytes of a new HS256 secret: the full SHA-256 block strength (RFC 7518 3.2 asks for at least 32). */
export const SECRET_BYTES = 32;
export const KID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

function checkKey(key: SigningKey): void {
  if (!KID_PATTERN.test(key.kid)) throw new Error(`A signing key id must be 8 to 64 characters of A-Z a-z 0-9 _ -`);
  if (key.key.type !== 'secret' || (key.key.symmetricKeySize ?? 0) < SECRET_BYTES) {
    throw new Error(`Signing key ${key.kid} must be a secret KeyObject of at least ${SECRET_BYTES} bytes`);
  }
  if (!Number.isFinite(key.createdAt)) throw new Error(`Signing key ${key.kid} has no valid createdAt`);
  if (key.pending !== undefined && typeof key.pending !== 'boolean') {
    throw new Error(`Signing key ${key.kid} has a pending flag that is not true or false`);
  }
}

/** The keys of a ring at one moment: replaced as a whole, so a reader never sees half a change. */
interface Snapshot {
  byKid: ReadonlyMap<string, SigningKey>;
  active: SigningKey;
}

/**
 * The signing keys a server knows. The set can be replaced while the server runs (a key added,
 * activated or retired): `replace` swaps it in one step, and everything holding the ring (the
 * token service, the middleware) sees the new keys from its next call on.
 */
export class KeyRing {
  private snapshot: Snapshot;
  /** Every secret this ring ever held, by kid: a key id never changes its secret. */
  private readonly secrets = new Map<string, KeyObject>();

  constructor(keys: Iterable<SigningKey>) {
    this.snapshot = this.build(keys);
    this.remember(this.snapshot);
  }

  /**
   * The key that signs new tokens: the newest one not pending (on equal times, the one given
   * last); the newest pending key when every key is pending.
   */
  active(): SigningKey {
    return this.snapshot.active;
  }

  /** The key with this id, if the ring has it. */
  get(kid: string): SigningKey | undefined {
    return this.snapshot.byKid.get(kid);
  }

  /** Adds a key; it becomes active when it is not pending and at least as new as the active one. */
  add(key: SigningKey): void {
    this.replace([...this.all(), key]);
  }

  /**
   * Replaces every key at once: keys left out stop verifying their tokens at once. Throws, and
   * leaves the ring as it was, when the new set is not valid or gives a known kid another secret.
   */
  replace(keys: Iterable<SigningKey>): void {
    const next = this.build(keys);
    this.snapshot = next;
    this.remember(next);
  }

  /** Every key, in the order they were given. */
  all(): SigningKey[] {
    return [...this.snapshot.byKid.values()];
  }

  private build(keys: Iterable<SigningKey>): Snapshot {
    const byKid = new Map<string, SigningKey>();
    for (const key of keys) {
      checkKey(key);
      if (byKid.has(key.kid)) throw new Error(`The key ring already has a key with id ${key.kid}`);
      const known = this.secrets.get(key.kid);
      if (known !== undefined && !known.equals(key.key)) {
        throw new Error(
          `Signing key ${key.kid} is given another secret than before; a key id never changes its secret (give a new key a new id)`,
        );
      }
      byKid.set(key.kid, key);
    }
    const all = [...byKid.values()];
    // Only pending keys (those in use were retired before the new one was activated): the newest
    // signs, since a retired key must stop at once and some key must sign.
    const active = newest(all.filter((key) => key.pending !== true)) ?? newest(all);
    if (!active) throw new Error('A key ring needs at least one signing key');
    return { byKid, active };
  }

  private remember(snapshot: Snapshot): void {
    for (const key of snapshot.byKid.values()) this.secrets.set(key.kid, key.key);
  }
}

/** The newest of `keys`; on equal times, the one given last. */
function newest(keys: SigningKey[]): SigningKey | undefined {
  return keys.reduce<SigningKey | undefined>(
    (best, key) => (!best || key.createdAt >= best.createdAt ? key : best),
    undefined,
  );
}

/** A new random HS256 key created at `now` (epoch milliseconds). */
export function generateSigningKey(now: number): SigningKey {
  return {
    kid: randomBytes(9).toString('base64url'),
    key: createSecretKey(randomBytes(SECRET_BYTES)),
    createdAt: now,
  };
}
