/**
 * The Adobe tokens replaced by earlier rotations, kept so that a later `token generate --update`
 * (or `token replace`) still finds their copies: Adobe's tokens are opaque, so copies are found
 * by value only. One file per tenant and scope, `adobe-<tenant>-<scope>-history.json`, in
 * PROFILEGATE_STATE_DIR (default `$XDG_STATE_HOME/profilegate`, else `~/.local/state/profilegate`),
 * the folder 0700 and the file 0600. It holds only replaced tokens, which stopped working when
 * they were replaced (Adobe has no grace period), never the current one (read from Adobe each
 * run), at most TOKEN_HISTORY_LIMIT of them, newest first.
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { AdobeAuthorizationScope } from '@profilegate/client';

/** The folder of the history files. */
export function stateDir(env: NodeJS.ProcessEnv): string {
  const explicit = env['PROFILEGATE_STATE_DIR']?.trim();
  if (explicit) return explicit;
  const xdg = env['XDG_STATE_HOME']?.trim();
  return join(xdg ? xdg : join(env['HOME']?.trim() || homedir(), '.local', 'state'), 'profilegate');
}

/** The history file of one tenant's token of one scope. */
export function historyFile(env: NodeJS.ProcessEnv, tenant: string, scope: AdobeAuthorizationScope): string {
  return join(stateDir(env), `adobe-${tenant}-${scope}-history.json`);
}

/** The kept tokens (none when there is no file); a damaged file is reported through `warn`. */
export async function readHistory(file: string, warn: (line: string) => void): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    warn(
      `Cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); earlier tokens are not looked for.`,
    );
    return [];
  }
  try {
    const parsed = JSON.parse(text) as { tokens?: unknown };
    if (Array.isArray(parsed.tokens))
      return parsed.tokens.filter((t): t is string => typeof t === 'string' && t !== '');
  } catch {
    // reported below
  }
  warn(`${file} is not a token history; earlier tokens are not looked for (it is rewritten after the next rotation).`);
  return [];
}

/** Writes the kept tokens: folder 0700, file 0600, replaced at once (temporary file, then rename). */
export async function writeHistory(file: string, tokens: readonly string[]): Promise<void> {
  const dir = join(file, '..');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, `${JSON.stringify({ tokens }, null, 2)}\n`, { mode: 0o600 });
  await fs.chmod(temporary, 0o600);
  await fs.rename(temporary, file);
}
