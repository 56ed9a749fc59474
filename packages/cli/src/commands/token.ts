import { promises as fs } from 'node:fs';
import { relative, resolve } from 'node:path';
import {
  PROFILE_TOKEN_LIMITS,
  describeSeconds,
  describeTimeLeft,
  displayText,
  isGlob,
  isLikelyTokenOfClient,
  maskToken,
  unverifiedExpiry,
  updateTokenInFiles,
  type ProfileTokenInfo,
  type UpdateTokenInFilesResult,
} from '@profilegate/client';
import { Command, Option } from 'commander';
import { CommandContext, globalOptions, type Streams } from '../context';
import { confirmDestructive } from '../confirm';
import { parseDurationWithin } from '../duration';
import { CommandFailedError, UsageError } from '../errors';
import { withExamples } from '../examples';
import { startProgress } from '../progress';

/** `profilegate token show|generate|revoke|replace`. */
export function tokenCommand(streams: Streams): Command {
  const token = new Command('token').description('Show, generate, revoke the profile token; update stored copies');
  withExamples(token, ['profilegate token show', 'profilegate token generate --update .env --yes']);

  const show = token
    .command('show')
    .description('Show the current profile token (masked unless --reveal) and when it expires')
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      const info = await ctx.api().getToken();
      if (info === null) {
        ctx.result({ client: ctx.client, token: null });
        ctx.say(`Client ${ctx.client} has no profile token; create one with: profilegate token generate`);
        return;
      }
      ctx.result({ client: ctx.client, token: tokenJson(ctx, info) });
      ctx.say(`Profile token of client ${ctx.client}: ${ctx.show(info.accessToken)}`);
      ctx.say(describeToken(info));
    });
  withExamples(show, ['profilegate token show', 'profilegate token show --reveal --json']);

  const generateCommand = token
    .command('generate')
    .description('Generate a new profile token (the current one stops working) and update its stored copies')
    .option('--expires-in <duration>', 'lifetime: 90d, 12h or seconds, 5 minutes to 365 days (default 90d)')
    .option(
      '--grace <duration>',
      'how long the replaced token keeps working: 10m, 1h or seconds, at most 1 day (default 0)',
    )
    .option('--update <paths...>', 'files, folders or globs in which to replace the old token')
    .option('--dry-run', 'list what would change; generate nothing and write nothing')
    .action(async (options: GenerateOptions, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      await generate(ctx, options);
    });
  withExamples(generateCommand, [
    "profilegate token generate --update .env config 'deploy/**/*.yaml' --dry-run",
    'profilegate token generate --update .env config --grace 10m',
    'profilegate token generate --expires-in 30d --yes   # in CI: no terminal to confirm on',
  ]);

  const revoke = token
    .command('revoke')
    .description('Revoke the profile token: no token works until a new one is generated')
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      const api = ctx.api();
      await confirmDestructive(ctx, {
        question: `Revoke the profile token of client ${ctx.client} on ${ctx.server}?`,
        consequences: ['No token works until you generate a new one: apps that send it get 401.'],
      });
      await api.revokeToken();
      ctx.result({ client: ctx.client, revoked: true });
      ctx.say(`Revoked the profile token of client ${ctx.client}; no token works until you generate a new one.`);
    });
  withExamples(revoke, ['profilegate token revoke', 'profilegate token revoke --yes   # without a terminal']);

  const replaceCommand = token
    .command('replace')
    .description('Replace stored copies of the old token by a token generated elsewhere (no server call)')
    .addOption(new Option('--new <token>', 'the new token, or - to read it from stdin').makeOptionMandatory())
    .option('--old <token>', 'the token to replace (other tokens of the client are recognised anyway)')
    .option('--dry-run', 'list what would change; write nothing')
    .argument('<paths...>', 'files, folders or globs')
    .action(async (paths: string[], options: ReplaceOptions, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      await replace(ctx, paths, options);
    });
  withExamples(replaceCommand, [
    "profilegate token show --reveal --json | jq -r .token.accessToken | profilegate token replace --new - .env 'config/*.json'",
  ]);

  return token;
}

interface GenerateOptions {
  expiresIn?: string;
  grace?: string;
  update?: string[];
  dryRun?: boolean;
}

interface ReplaceOptions {
  new: string;
  old?: string;
  dryRun?: boolean;
}

function tokenJson(ctx: CommandContext, info: ProfileTokenInfo): Record<string, unknown> {
  const { accessToken, ...rest } = info;
  return { ...(ctx.reveal ? { accessToken } : {}), accessTokenMasked: maskToken(accessToken), ...rest };
}

function describeToken(info: ProfileTokenInfo): string {
  return `Expires ${info.expiresAt} (in ${describeTimeLeft(info.expiresIn * 1000)}); created ${info.createdAt} by ${info.createdBy}.`;
}

/** Fails before anything changes when a named path (not a glob) does not exist. */
async function checkPaths(ctx: CommandContext, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    if (isGlob(path)) continue;
    try {
      await fs.stat(resolve(ctx.streams.cwd, path));
    } catch {
      throw new UsageError(`${path} does not exist; nothing was changed`);
    }
  }
}

async function generate(ctx: CommandContext, options: GenerateOptions): Promise<void> {
  const limits = PROFILE_TOKEN_LIMITS;
  const expiresIn =
    options.expiresIn === undefined
      ? undefined
      : parseDurationWithin(options.expiresIn, '--expires-in', limits.minExpiresIn, limits.maxExpiresIn);
  const grace =
    options.grace === undefined ? undefined : parseDurationWithin(options.grace, '--grace', 0, limits.maxGrace);
  const paths = options.update ?? [];
  await checkPaths(ctx, paths);
  const api = ctx.api();

  // Read first: the exact value to replace in the files is the one the server holds now.
  const current = await api.getToken();
  const oldTokens = current === null ? [] : [current.accessToken];

  // The files are looked at before anything changes: an --update that matches no file stops here.
  const planned =
    paths.length > 0 ? await updateFiles(ctx, paths, oldTokens, '\u0000placeholder-new-token', true) : undefined;
  if (planned !== undefined && planned.filesScanned + planned.skipped.length === 0) {
    throw new UsageError(
      `--update ${paths.join(' ')} matched no file; nothing was changed (no token was generated). ` +
        'Check the paths and globs (quote globs so the shell does not expand them).',
    );
  }

  if (options.dryRun === true) {
    ctx.result({ client: ctx.client, dryRun: true, generated: false, files: planned && filesJson(ctx, planned) });
    ctx.say(
      `Dry run: would generate a new profile token for client ${ctx.client}${current === null ? '' : ` replacing ${maskToken(current.accessToken)}`}.`,
    );
    if (planned !== undefined) printFiles(ctx, planned, true);
    return;
  }

  const consequences = [
    current === null
      ? 'There is no current token.'
      : grace
        ? `The current token (${maskToken(current.accessToken)}) keeps working for ${describeSeconds(grace)}, then stops.`
        : `The current token (${maskToken(current.accessToken)}) stops working at once.`,
  ];
  if (planned !== undefined) {
    consequences.push(
      `Then ${planned.copies} ${planned.copies === 1 ? 'copy' : 'copies'} in ${planned.filesChanged.length} of ` +
        `${planned.filesScanned} files scanned are replaced (see --dry-run).`,
    );
  }
  await confirmDestructive(ctx, {
    question: `Generate a new profile token for client ${ctx.client} on ${ctx.server}?`,
    consequences,
  });

  const body: { expiresIn?: number; previousTokenGraceSeconds?: number } = {};
  if (expiresIn !== undefined) body.expiresIn = expiresIn;
  if (grace !== undefined) body.previousTokenGraceSeconds = grace;
  const info = await api.generateToken(body);

  let files: UpdateTokenInFilesResult | undefined;
  if (paths.length > 0) {
    try {
      files = await updateFiles(ctx, paths, oldTokens, info.accessToken, false);
    } catch (error) {
      // The server already has the new token: say how to finish without losing it.
      throw new CommandFailedError(
        `Generated a new token (${maskToken(info.accessToken)}) but updating the files failed: ` +
          `${displayText(error instanceof Error ? error.message : String(error))}. Finish with: ` +
          'profilegate token show --reveal, then profilegate token replace --new - <paths>',
      );
    }
  }
  ctx.result({ client: ctx.client, token: tokenJson(ctx, info), files: files && filesJson(ctx, files) });
  ctx.say(`New profile token for client ${ctx.client}: ${ctx.show(info.accessToken)}`);
  ctx.say(
    `New token expires in ${describeTimeLeft(info.expiresIn * 1000)} (${info.expiresAt}).` +
      (current === null
        ? ''
        : grace
          ? ` The previous token keeps working for ${describeSeconds(grace)}.`
          : ' The previous token no longer works.'),
  );
  if (files !== undefined) printFiles(ctx, files, false);
}

async function replace(ctx: CommandContext, paths: string[], options: ReplaceOptions): Promise<void> {
  const newToken = options.new === '-' ? (await readAll(ctx.streams.stdin)).trim() : options.new.trim();
  if (newToken === '')
    throw new UsageError('The new token is empty (--new <token> or --new - with the token on stdin)');
  if (!isLikelyTokenOfClient(newToken, ctx.client)) {
    throw new UsageError(
      `The new token (${maskToken(newToken)}) is not a profile token of client ${ctx.client}; check --client or the token`,
    );
  }
  const expiry = unverifiedExpiry(newToken);
  if (expiry !== null && expiry <= Date.now()) {
    throw new UsageError(`The new token (${maskToken(newToken)}) expired at ${new Date(expiry).toISOString()}`);
  }
  await checkPaths(ctx, paths);
  const oldTokens = options.old === undefined ? [] : [options.old.trim()];
  const files = await updateFiles(ctx, paths, oldTokens, newToken, options.dryRun === true);
  ctx.result({
    client: ctx.client,
    dryRun: options.dryRun === true,
    newToken: ctx.show(newToken),
    files: filesJson(ctx, files),
  });
  ctx.say(`${options.dryRun === true ? 'Dry run: ' : ''}Replacing with ${ctx.show(newToken)}.`);
  printFiles(ctx, files, options.dryRun === true);
}

async function updateFiles(
  ctx: CommandContext,
  paths: string[],
  oldTokens: string[],
  newToken: string,
  dryRun: boolean,
): Promise<UpdateTokenInFilesResult> {
  const progress = startProgress(ctx, 'Scanning files', 'files');
  try {
    return await updateTokenInFiles({
      root: ctx.streams.cwd,
      files: paths,
      oldTokens,
      newToken,
      client: ctx.client,
      dryRun,
      onProgress: (p) => progress.update(p.filesScanned, p.filesTotal),
    });
  } finally {
    progress.stop();
  }
}

function filesJson(ctx: CommandContext, files: UpdateTokenInFilesResult): Record<string, unknown> {
  const rel = (path: string) => relative(ctx.streams.cwd, path) || path;
  return {
    filesScanned: files.filesScanned,
    copies: files.copies,
    filesChanged: files.filesChanged.map((f) => ({ path: rel(f.path), copies: f.copies })),
    skipped: files.skipped.map((s) => ({ path: rel(s.path), reason: s.reason })),
  };
}

function printFiles(ctx: CommandContext, files: UpdateTokenInFilesResult, dryRun: boolean): void {
  const count = files.filesChanged.length;
  ctx.say(
    `${dryRun ? 'Would update' : 'Updated'} ${files.copies} ${files.copies === 1 ? 'copy' : 'copies'} in ${count} ${count === 1 ? 'file' : 'files'} (${files.filesScanned} scanned).`,
  );
  for (const file of files.filesChanged)
    ctx.say(`  ${relative(ctx.streams.cwd, file.path) || file.path}: ${file.copies}`);
  for (const skip of files.skipped)
    ctx.say(`  skipped ${relative(ctx.streams.cwd, skip.path) || skip.path} (${skip.reason})`);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
