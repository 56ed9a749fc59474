import { createSecretKey, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { systemClock, type Clock } from '../clock';
import { KID_PATTERN, KeyRing, SECRET_BYTES, generateSigningKey, type SigningKey } from './keys';

// The key file. It lives outside the database on purpose: a copy of the database alone must not
// be enough to mint or recover a working token (API.md 3.1). The same JSON may come from an
// environment variable instead (PROFILEGATE_SIGNING_KEYS for the demo server).
//
//   {"keys":[{"kid":"…","secret":"<base64url>","createdAt":<ms>},          a key in use
//            {"kid":"…","secret":"…","createdAt":<ms>,"pending":true},      verifies, signs nothing yet
//            {"kid":"…","retiredAt":<ms>}]}                                  retired: verifies nothing

/** A key taken out of use for good: the tokens it signed stop verifying on every instance. */
export interface RetiredSigningKey {
  kid: string;
  /** Epoch milliseconds. */
  retiredAt: number;
}

/** What a key file (or PROFILEGATE_SIGNING_KEYS) holds: the keys in use and the retired ids. */
export interface SigningKeySet {
  keys: SigningKey[];
  retired: RetiredSigningKey[];
}

/** Where a key set comes from, for messages (which never hold its content). */
export type SigningKeyOrigin = { file: string } | { variable: string };

/** "signing key file /x/signing-keys.json" or "environment variable PROFILEGATE_SIGNING_KEYS". */
export function describeKeyOrigin(origin: SigningKeyOrigin): string {
  return 'file' in origin ? `signing key file ${origin.file}` : `environment variable ${origin.variable}`;
}

function invalid(origin: SigningKeyOrigin, what: string): Error {
  // Never include the content here: it holds the secrets.
  if ('file' in origin) {
    return new Error(
      `Signing key file ${origin.file} is not valid (${what}). Restore it from a backup or copy it from another ` +
        'instance. If its keys are lost for good, delete it to create a new key (every profile token issued so far ' +
        'then stops working; an instance sharing a database must also mark the old keys retired, see docs/multi-instance.md).',
    );
  }
  return new Error(
    `${origin.variable} is not valid (${what}); set it to the JSON of a signing key file, ` +
      '{"keys":[{"kid":"…","secret":"…","createdAt":…}]}, or unset it to use the file in the data folder',
  );
}

type Fields = Partial<Record<'kid' | 'secret' | 'createdAt' | 'pending' | 'retiredAt', unknown>>;

/**
 * Parses the JSON of a key file. Throws an Error naming `origin` and what is wrong, never
 * quoting the text: at least one key must be in use and not pending, ids must be unique, and
 * secrets must be base64url of at least 32 bytes.
 */
export function parseSigningKeys(text: string, origin: SigningKeyOrigin): SigningKeySet {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse messages quote the input, which would leak secrets.
    throw invalid(origin, 'not JSON');
  }
  const entries = (data as { keys?: unknown } | null)?.keys;
  if (typeof data !== 'object' || data === null || !Array.isArray(entries) || entries.length === 0) {
    throw invalid(origin, 'expected {"keys":[...]} with at least one key');
  }
  const seen = new Set<string>();
  const set: SigningKeySet = { keys: [], retired: [] };
  entries.forEach((entry: unknown, index) => {
    const { kid, secret, createdAt, pending, retiredAt } = (entry ?? {}) as Fields;
    if (typeof kid !== 'string' || !KID_PATTERN.test(kid) || seen.has(kid)) {
      throw invalid(origin, `key ${index + 1} has a missing, invalid or duplicate kid`);
    }
    seen.add(kid);
    if (retiredAt !== undefined) {
      if (typeof retiredAt !== 'number' || !Number.isFinite(retiredAt)) {
        throw invalid(origin, `key ${kid} has a retiredAt that is not a number`);
      }
      set.retired.push({ kid, retiredAt });
      return;
    }
    if (typeof secret !== 'string' || !/^[A-Za-z0-9_-]+$/.test(secret)) {
      throw invalid(origin, `key ${kid} has no base64url secret`);
    }
    const bytes = Buffer.from(secret, 'base64url');
    if (bytes.length < SECRET_BYTES) throw invalid(origin, `key ${kid} is shorter than ${SECRET_BYTES} bytes`);
    if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) {
      throw invalid(origin, `key ${kid} has no numeric createdAt`);
    }
    if (pending !== undefined && typeof pending !== 'boolean') {
      throw invalid(origin, `key ${kid} has a pending that is not true or false`);
    }
    const key: SigningKey = { kid, key: createSecretKey(bytes), createdAt };
    if (pending === true) key.pending = true;
    set.keys.push(key);
  });
  if (!set.keys.some((key) => key.pending !== true)) {
    throw invalid(origin, 'no key can sign: every key is pending or retired');
  }
  return set;
}

function serialize(set: SigningKeySet): string {
  const keys = [
    ...set.keys.map((k) => ({
      kid: k.kid,
      secret: k.key.export().toString('base64url'),
      createdAt: k.createdAt,
      ...(k.pending === true ? { pending: true } : {}),
    })),
    ...set.retired.map((r) => ({ kid: r.kid, retiredAt: r.retiredAt })),
  ];
  return `${JSON.stringify({ keys }, null, 2)}\n`;
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === code;
}

/** Sets a key file readable by others to 0600: tightened rather than refused, the fix is obvious and safe. */
export async function tightenKeyFileMode(filePath: string): Promise<void> {
  if (process.platform === 'win32') return;
  const stat = await fs.stat(filePath);
  if ((stat.mode & 0o077) !== 0) await fs.chmod(filePath, 0o600);
}

/** Reads and parses a key file (ENOENT when it is missing), tightening its mode to 0600. */
export async function readSigningKeyFile(filePath: string): Promise<SigningKeySet> {
  const text = await fs.readFile(filePath, 'utf8');
  await tightenKeyFileMode(filePath);
  return parseSigningKeys(text, { file: filePath });
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
 * Creates the key file with one new key (mode 0600, folder 0700 when it is created) and returns
 * its keys; when another process created it first, returns that file's keys instead.
 */
export async function createSigningKeyFile(filePath: string, clock: Clock = systemClock): Promise<SigningKeySet> {
  const set: SigningKeySet = { keys: [generateSigningKey(clock())], retired: [] };
  try {
    await writeAtomically(filePath, serialize(set), true);
    return set;
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
    return readSigningKeyFile(filePath); // another process created it first: use its key
  }
}

async function loadOrCreate(filePath: string, clock: Clock): Promise<SigningKeySet> {
  try {
    return await readSigningKeyFile(filePath);
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  return createSigningKeyFile(filePath, clock);
}

/**
 * Reads the key file, or creates it with one new key (file mode 0600, folder 0700 when it is
 * created). Throws an Error naming the file when it is corrupt. Instances sharing a database
 * should use `openSigningKeys` instead, which also checks the keys against the database.
 */
export async function loadOrCreateKeyRing(filePath: string, clock: Clock = systemClock): Promise<KeyRing> {
  return new KeyRing((await loadOrCreate(filePath, clock)).keys);
}

/** Rewrites the key file with `change` applied; the result must still have a key that can sign. */
async function updateKeyFile(
  filePath: string,
  clock: Clock,
  change: (set: SigningKeySet) => SigningKeySet,
): Promise<SigningKeySet> {
  const next = change(await loadOrCreate(filePath, clock));
  // Round trip through the parser: what is written is exactly what every reader accepts.
  const text = serialize(next);
  const checked = parseSigningKeys(text, { file: filePath });
  await writeAtomically(filePath, text, false);
  return checked;
}

/** A new key dated no earlier than the keys of `set`, so that it becomes the newest. */
function newestKey(set: SigningKeySet, clock: Clock): SigningKey {
  return generateSigningKey(Math.max(clock(), ...set.keys.map((k) => k.createdAt)));
}

/**
 * Adds a new active key to the key file and returns the resulting ring. Older keys stay, so the
 * tokens they signed keep verifying until they expire or are replaced. Rotations are not locked
 * across processes: run one rotation at a time. With several instances, use `addSigningKey`
 * then `activateSigningKey` instead (docs/multi-instance.md).
 */
export async function rotateSigningKey(filePath: string, clock: Clock = systemClock): Promise<KeyRing> {
  const set = await updateKeyFile(filePath, clock, (s) => ({ ...s, keys: [...s.keys, newestKey(s, clock)] }));
  return new KeyRing(set.keys);
}

/**
 * Adds a pending key to the key file: it verifies tokens but signs none until
 * `activateSigningKey`. Returns its kid. Copy the file to every instance before activating it.
 */
export async function addSigningKey(filePath: string, clock: Clock = systemClock): Promise<string> {
  let kid = '';
  await updateKeyFile(filePath, clock, (s) => {
    const key = { ...newestKey(s, clock), pending: true };
    kid = key.kid;
    return { ...s, keys: [...s.keys, key] };
  });
  return kid;
}

/** Makes a pending key of the key file the one that signs new tokens. */
export async function activateSigningKey(filePath: string, kid: string, clock: Clock = systemClock): Promise<void> {
  await updateKeyFile(filePath, clock, (s) => {
    const key = s.keys.find((k) => k.kid === kid);
    if (!key) throw new Error(`Signing key file ${filePath} has no key ${kid} in use`);
    const newest = Math.max(...s.keys.filter((k) => k.pending !== true).map((k) => k.createdAt));
    const active: SigningKey = { kid: key.kid, key: key.key, createdAt: Math.max(key.createdAt, newest) };
    return { ...s, keys: [...s.keys.filter((k) => k !== key), active] };
  });
}

/**
 * Retires a key in the key file: its secret is removed and only its id stays, marked retired.
 * Tokens it signed stop verifying on every instance sharing the database once one instance has
 * read the file. Works for a key the file does not have (a key lost for good). Refused when no
 * other key could sign.
 */
export async function retireSigningKey(filePath: string, kid: string, clock: Clock = systemClock): Promise<void> {
  if (!KID_PATTERN.test(kid)) throw new Error(`${JSON.stringify(kid.slice(0, 70))} is not a signing key id`);
  await updateKeyFile(filePath, clock, (s) => {
    if (s.retired.some((r) => r.kid === kid)) return s;
    const keys = s.keys.filter((k) => k.kid !== kid);
    if (!keys.some((k) => k.pending !== true)) {
      throw new Error(
        `Signing key ${kid} is the only key of ${filePath} that can sign; add and activate another key before retiring it`,
      );
    }
    return { keys, retired: [...s.retired, { kid, retiredAt: clock() }] };
  });
}
