import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { systemClock, type Clock } from '../clock';

/** An HS256 signing key and its id (the JWT header's `kid`). */
export interface SigningKey {
  kid: string;
  key: KeyObject;
  /** Epoch milliseconds. The newest key signs new tokens. */
  createdAt: number;
}

/** Bytes of a new HS256 secret: the full SHA-256 block strength (RFC 7518 3.2 asks for at least 32). */
const SECRET_BYTES = 32;
const KID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

function checkKey(key: SigningKey): void {
  if (!KID_PATTERN.test(key.kid)) throw new Error(`A signing key id must be 8 to 64 characters of A-Z a-z 0-9 _ -`);
  if (key.key.type !== 'secret' || (key.key.symmetricKeySize ?? 0) < SECRET_BYTES) {
    throw new Error(`Signing key ${key.kid} must be a secret KeyObject of at least ${SECRET_BYTES} bytes`);
  }
  if (!Number.isFinite(key.createdAt)) throw new Error(`Signing key ${key.kid} has no valid createdAt`);
}

/** The signing keys a server knows. Keys are only ever added, so tokens of older keys keep verifying. */
export class KeyRing {
  private readonly byKid = new Map<string, SigningKey>();
  private newest: SigningKey | undefined;

  constructor(keys: Iterable<SigningKey>) {
    for (const key of keys) this.add(key);
    if (!this.newest) throw new Error('A key ring needs at least one signing key');
  }

  /** The key that signs new tokens: the newest one (on equal times, the one added last). */
  active(): SigningKey {
    return this.newest as SigningKey;
  }

  /** The key with this id, if the ring has it. */
  get(kid: string): SigningKey | undefined {
    return this.byKid.get(kid);
  }

  /** Adds a key; it becomes active when it is at least as new as the active one. */
  add(key: SigningKey): void {
    checkKey(key);
    if (this.byKid.has(key.kid)) throw new Error(`The key ring already has a key with id ${key.kid}`);
    this.byKid.set(key.kid, key);
    if (!this.newest || key.createdAt >= this.newest.createdAt) this.newest = key;
  }

  /** Every key, in the order they were added. */
  all(): SigningKey[] {
    return [...this.byKid.values()];
  }
}

/** A new random HS256 key created at `now` (epoch milliseconds). */
export function generateSigningKey(now: number): SigningKey {
  return {
    kid: randomBytes(9).toString('base64url'),
    key: createSecretKey(randomBytes(SECRET_BYTES)),
    createdAt: now,
  };
}

// ---------------------------------------------------------------------------------------------
// The key file. It lives outside the database on purpose: a copy of the database alone must not
// be enough to mint or recover a working token (API.md 3.1).

interface KeyFileEntry {
  kid: string;
  secret: string;
  createdAt: number;
}

function corrupt(filePath: string, what: string): Error {
  // Never include file content here: it holds the secrets.
  return new Error(
    `Signing key file ${filePath} is not valid (${what}). Restore it from a backup, or delete it to ` +
      'create a new key (every profile token issued so far then stops working).',
  );
}

function parseKeyFile(filePath: string, text: string): SigningKey[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse messages quote the input, which would leak secrets.
    throw corrupt(filePath, 'not JSON');
  }
  const entries = (data as { keys?: unknown } | null)?.keys;
  if (typeof data !== 'object' || data === null || !Array.isArray(entries) || entries.length === 0) {
    throw corrupt(filePath, 'expected {"keys":[...]} with at least one key');
  }
  const seen = new Set<string>();
  return entries.map((entry: unknown, index) => {
    const { kid, secret, createdAt } = (entry ?? {}) as Partial<Record<keyof KeyFileEntry, unknown>>;
    if (typeof kid !== 'string' || !KID_PATTERN.test(kid) || seen.has(kid)) {
      throw corrupt(filePath, `key ${index + 1} has a missing, invalid or duplicate kid`);
    }
    seen.add(kid);
    if (typeof secret !== 'string' || !/^[A-Za-z0-9_-]+$/.test(secret)) {
      throw corrupt(filePath, `key ${kid} has no base64url secret`);
    }
    const bytes = Buffer.from(secret, 'base64url');
    if (bytes.length < SECRET_BYTES) throw corrupt(filePath, `key ${kid} is shorter than ${SECRET_BYTES} bytes`);
    if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) {
      throw corrupt(filePath, `key ${kid} has no numeric createdAt`);
    }
    return { kid, key: createSecretKey(bytes), createdAt };
  });
}

function serialize(ring: KeyRing): string {
  const keys: KeyFileEntry[] = ring.all().map((k) => ({
    kid: k.kid,
    secret: k.key.export().toString('base64url'),
    createdAt: k.createdAt,
  }));
  return `${JSON.stringify({ keys }, null, 2)}\n`;
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}

async function readKeyRing(filePath: string): Promise<KeyRing> {
  const text = await fs.readFile(filePath, 'utf8');
  if (process.platform !== 'win32') {
    // A key file readable by others is tightened rather than refused: the fix is obvious and safe.
    const stat = await fs.stat(filePath);
    if ((stat.mode & 0o077) !== 0) await fs.chmod(filePath, 0o600);
  }
  try {
    return new KeyRing(parseKeyFile(filePath, text));
  } catch (error) {
    if ((error as Error).message.startsWith('Signing key file')) throw error;
    throw corrupt(filePath, (error as Error).message);
  }
}

/**
 * Writes `content` to `filePath` through a 0600 temp file in the same folder, so readers see the
 * old file or the new one, never half of one. `exclusive` fails with EEXIST when the file exists
 * (two processes creating the key file at once must end up with the same key).
 */
async function writeAtomically(filePath: string, content: string, exclusive: boolean): Promise<void> {
  const dir = path.dirname(filePath);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (exclusive) {
      try {
        await fs.link(temp, filePath);
      } catch (error) {
        if (isErrno(error, 'EEXIST')) throw error;
        // Filesystems without hard links: fall back to a rename, which is still atomic.
        await fs.rename(temp, filePath);
      }
    } else {
      await fs.rename(temp, filePath);
    }
  } finally {
    await fs.rm(temp, { force: true });
  }
  try {
    const dirHandle = await fs.open(dir, 'r');
    await dirHandle.sync().finally(() => dirHandle.close());
  } catch {
    // Syncing a folder is not supported everywhere (Windows); the rename itself is done.
  }
}

/**
 * Reads the key file, or creates it with one new key (file mode 0600, folder 0700 when it is
 * created). Throws an Error naming the file when it is corrupt.
 */
export async function loadOrCreateKeyRing(filePath: string, clock: Clock = systemClock): Promise<KeyRing> {
  try {
    return await readKeyRing(filePath);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  const ring = new KeyRing([generateSigningKey(clock())]);
  try {
    await writeAtomically(filePath, serialize(ring), true);
    return ring;
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
    return readKeyRing(filePath); // another process created it first: use its key
  }
}

/**
 * Adds a new active key to the key file and returns the resulting ring. Older keys stay, so the
 * tokens they signed keep verifying until they expire or are replaced. Rotations are not locked
 * across processes: run one rotation at a time.
 */
export async function rotateSigningKey(filePath: string, clock: Clock = systemClock): Promise<KeyRing> {
  const ring = await loadOrCreateKeyRing(filePath, clock);
  // Never older than the active key, even if the clock went back, so the new key becomes active.
  ring.add(generateSigningKey(Math.max(clock(), ring.active().createdAt)));
  await writeAtomically(filePath, serialize(ring), false);
  return ring;
}
