import { promises as fs } from 'node:fs';
import type { Clock } from '../clock';
import type { Store } from '../store/types';
import { missingKeysError } from './key-agreement';
import {
  createSigningKeyFile,
  parseSigningKeys,
  tightenKeyFileMode,
  type SigningKeyOrigin,
  type SigningKeySet,
} from './key-file';

/** The key file's text, or undefined when it does not exist. */
export async function readKeyFileText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The keys an instance starts with, and the key file's text as read (undefined for a variable). */
export interface StartingKeys {
  set: SigningKeySet;
  text: string | undefined;
}

/**
 * Reads the keys an instance starts with from their origin: the variable's value, or the key
 * file, whose mode is tightened to 0600. A missing file is created with one new key, unless the
 * store already records keys in use: this instance must then get a copy of those (the error says so).
 */
export async function readStartingKeys(
  origin: SigningKeyOrigin,
  { store, clock, variableValue }: { store: Store; clock: Clock; variableValue?: string },
): Promise<StartingKeys> {
  if (!('file' in origin)) return { set: parseSigningKeys(variableValue ?? '', origin), text: undefined };
  const text = await readKeyFileText(origin.file);
  if (text !== undefined) {
    await tightenKeyFileMode(origin.file);
    return { set: parseSigningKeys(text, origin), text };
  }
  const inUse = (await store.listSigningKeys()).filter((r) => r.retiredAt === null);
  // Never create a key of our own beside keys other instances already use.
  if (inUse.length > 0) throw missingKeysError(origin, inUse, `the signing key file ${origin.file} does not exist`);
  const set = await createSigningKeyFile(origin.file, clock);
  return { set, text: await readKeyFileText(origin.file) };
}
