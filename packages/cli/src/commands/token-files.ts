import { constants, promises as fs } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { isGlob, updateTokenInFiles, type UpdateTokenInFilesResult } from '@profilegate/client';
import type { CommandContext } from '../context';
import { UsageError } from '../errors';
import { startProgress } from '../progress';

/** The new token's stand-in when the files are only looked at (preview, --dry-run). */
export const PLACEHOLDER_TOKEN = '\u0000placeholder-new-token';

/** Fails before anything changes when a named path (not a glob) does not exist. */
export async function checkPaths(ctx: CommandContext, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    if (isGlob(path)) continue;
    try {
      await fs.stat(resolve(ctx.streams.cwd, path));
    } catch {
      throw new UsageError(`${path} does not exist; nothing was changed`);
    }
  }
}

/**
 * Fails before anything changes when a file the plan would change cannot be rewritten: each is
 * replaced through a temporary file beside it (then renamed over it), so its folder must be
 * writable. Otherwise the token would be generated and the copies left old.
 */
export async function checkWritable(ctx: CommandContext, planned: UpdateTokenInFilesResult): Promise<void> {
  for (const file of planned.filesChanged) {
    const shown = relative(ctx.streams.cwd, file.path) || file.path;
    const folder = dirname(file.path);
    try {
      await fs.access(folder, constants.W_OK);
    } catch {
      throw new UsageError(
        `Cannot update ${shown}: its folder ${relative(ctx.streams.cwd, folder) || folder} is not writable ` +
          '(the file is rewritten through a temporary file beside it); nothing was changed (no token was generated).',
      );
    }
  }
}

/**
 * Replaces the old tokens in the files (`client`: also that Profilegate client's other tokens;
 * null for Adobe's opaque tokens, found by value only).
 */
export async function updateFiles(
  ctx: CommandContext,
  paths: string[],
  oldTokens: string[],
  newToken: string,
  dryRun: boolean,
  client: string | null = ctx.client,
): Promise<UpdateTokenInFilesResult> {
  const progress = startProgress(ctx, 'Scanning files', 'files');
  try {
    return await updateTokenInFiles({
      root: ctx.streams.cwd,
      files: paths,
      oldTokens,
      newToken,
      ...(client === null ? {} : { client }),
      dryRun,
      onProgress: (p) => progress.update(p.filesScanned, p.filesTotal),
    });
  } finally {
    progress.stop();
  }
}

export function filesJson(ctx: CommandContext, files: UpdateTokenInFilesResult): Record<string, unknown> {
  const rel = (path: string) => relative(ctx.streams.cwd, path) || path;
  return {
    filesScanned: files.filesScanned,
    copies: files.copies,
    filesChanged: files.filesChanged.map((f) => ({ path: rel(f.path), copies: f.copies })),
    skipped: files.skipped.map((s) => ({ path: rel(s.path), reason: s.reason })),
  };
}

export function printFiles(ctx: CommandContext, files: UpdateTokenInFilesResult, dryRun: boolean): void {
  const count = files.filesChanged.length;
  ctx.say(
    `${dryRun ? 'Would update' : 'Updated'} ${files.copies} ${files.copies === 1 ? 'copy' : 'copies'} in ${count} ${count === 1 ? 'file' : 'files'} (${files.filesScanned} scanned).`,
  );
  for (const file of files.filesChanged)
    ctx.say(`  ${relative(ctx.streams.cwd, file.path) || file.path}: ${file.copies}`);
  for (const skip of files.skipped)
    ctx.say(`  skipped ${relative(ctx.streams.cwd, skip.path) || skip.path} (${skip.reason})`);
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The --new token (`-`: read from stdin); a usage error when it is empty. */
export async function readNewToken(ctx: CommandContext, options: { new: string }): Promise<string> {
  const newToken = options.new === '-' ? (await readAll(ctx.streams.stdin)).trim() : options.new.trim();
  if (newToken === '')
    throw new UsageError('The new token is empty (--new <token> or --new - with the token on stdin)');
  return newToken;
}
