import {
  ADOBE_AUTHORIZATION_SCOPES,
  PROFILE_TOKEN_LIMITS,
  describeSeconds,
  describeTimeLeft,
  displayText,
  isLikelyTokenOfClient,
  maskToken,
  unverifiedExpiry,
  type AdobeAuthorizationScope,
  type ProfileTokenInfo,
  type UpdateTokenInFilesResult,
} from '@profilegate/client';
import { Command, Option } from 'commander';
import { CommandContext, globalOptions, type Streams } from '../context';
import { confirmDestructive } from '../confirm';
import { parseDurationWithin } from '../duration';
import { CommandFailedError, UsageError } from '../errors';
import { withExamples } from '../examples';
import { adobeGenerate, adobeReplace, adobeShow } from './token-adobe';
import {
  PLACEHOLDER_TOKEN,
  checkPaths,
  checkWritable,
  filesJson,
  printFiles,
  readNewToken,
  updateFiles,
} from './token-files';

/** --scope: which Adobe Target token (a Profilegate server has one profile token per client). */
function scopeOption(): Option {
  return new Option(
    '--scope <scope>',
    'Adobe Target: which token, profile_api or debug_tools (default profile_api)',
  ).choices([...ADOBE_AUTHORIZATION_SCOPES]);
}

/** The --scope of an Adobe command; a usage error for a Profilegate target, which has one token. */
export function scopeFor(ctx: CommandContext, scope: string | undefined): AdobeAuthorizationScope {
  if (ctx.target !== 'adobe' && scope !== undefined) {
    throw new UsageError(
      '--scope chooses an Adobe Target token; a Profilegate server has one profile token per client',
    );
  }
  return (scope ?? 'profile_api') as AdobeAuthorizationScope;
}

/** `profilegate token show|generate|revoke|replace`. */
export function tokenCommand(streams: Streams): Command {
  const token = new Command('token').description('Show, generate, revoke the profile token; update stored copies');
  withExamples(token, ['profilegate token show', 'profilegate token generate --update .env --yes']);

  const show = token
    .command('show')
    .description('Show the current profile token (masked unless --reveal) and when it expires')
    .addOption(scopeOption())
    .action(async (options: { scope?: string }, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      const scope = scopeFor(ctx, options.scope);
      if (ctx.target === 'adobe') return adobeShow(ctx, scope);
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
  withExamples(show, [
    'profilegate token show',
    'profilegate token show --reveal --json',
    'PROFILEGATE_ADOBE_TENANT=acme … profilegate token show --scope debug_tools',
  ]);

  const generateCommand = token
    .command('generate')
    .description('Generate a new profile token (the current one stops working) and update its stored copies')
    .option(
      '--expires-in <duration>',
      'lifetime: 90d, 12h or seconds, 5 minutes to 365 days (default 90d; not for Adobe Target)',
    )
    .option(
      '--grace <duration>',
      'how long the replaced token keeps working: 10m, 1h or seconds, at most 1 day (default 0; Adobe Target has none)',
    )
    .option('--update <paths...>', 'files, folders or globs in which to replace the old token')
    .option('--dry-run', 'list what would change; generate nothing and write nothing')
    .addOption(scopeOption())
    .action(async (options: GenerateOptions, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      const scope = scopeFor(ctx, options.scope);
      if (ctx.target === 'adobe') return adobeGenerate(ctx, scope, options);
      await generate(ctx, options);
    });
  withExamples(generateCommand, [
    "profilegate token generate --update .env config 'deploy/**/*.yaml' --dry-run",
    'profilegate token generate --update .env config --grace 10m',
    'profilegate token generate --expires-in 30d --yes   # in CI: no terminal to confirm on',
    'PROFILEGATE_ADOBE_TENANT=acme … profilegate token generate --scope profile_api --update .env config',
  ]);

  const revoke = token
    .command('revoke')
    .description('Revoke the profile token: no token works until a new one is generated')
    .action(async (_options: unknown, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      ctx.refuseForAdobe(
        'Adobe Target has no route to revoke a token: its Admin API only reads and regenerates it ' +
          '(profilegate token generate replaces it; the previous one stops working at once).',
      );
      const api = ctx.api();
      if ((await api.getToken()) === null) {
        ctx.result({ client: ctx.client, revoked: false });
        ctx.say(`Client ${ctx.client} has no profile token; nothing to revoke.`);
        return;
      }
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
    .option(
      '--old <token>',
      "the token to replace (Profilegate: the client's other tokens are recognised anyway; Adobe: the tokens kept from earlier rotations too)",
    )
    .option('--dry-run', 'list what would change; write nothing')
    .addOption(scopeOption())
    .argument('<paths...>', 'files, folders or globs')
    .action(async (paths: string[], options: ReplaceOptions, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      const scope = scopeFor(ctx, options.scope);
      if (ctx.target === 'adobe') return adobeReplace(ctx, scope, paths, options);
      await replace(ctx, paths, options);
    });
  withExamples(replaceCommand, [
    "profilegate token show --reveal --json | jq -r .token.accessToken | profilegate token replace --new - .env 'config/*.json'",
  ]);

  return token;
}

export interface GenerateOptions {
  expiresIn?: string;
  grace?: string;
  update?: string[];
  dryRun?: boolean;
  scope?: string;
}

export interface ReplaceOptions {
  new: string;
  old?: string;
  dryRun?: boolean;
  scope?: string;
}

function tokenJson(ctx: CommandContext, info: ProfileTokenInfo): Record<string, unknown> {
  const { accessToken, ...rest } = info;
  return { ...(ctx.reveal ? { accessToken } : {}), accessTokenMasked: maskToken(accessToken), ...rest };
}

function describeToken(info: ProfileTokenInfo): string {
  return `Expires ${info.expiresAt} (in ${describeTimeLeft(info.expiresIn * 1000)}); created ${info.createdAt} by ${info.createdBy}.`;
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
  const planned = paths.length > 0 ? await updateFiles(ctx, paths, oldTokens, PLACEHOLDER_TOKEN, true) : undefined;
  if (planned !== undefined && planned.filesScanned + planned.skipped.length === 0) {
    throw new UsageError(
      `--update ${paths.join(' ')} matched no file; nothing was changed (no token was generated). ` +
        'Check the paths and globs (quote globs so the shell does not expand them).',
    );
  }

  if (planned !== undefined && options.dryRun !== true) await checkWritable(ctx, planned);

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
  const newToken = await readNewToken(ctx, options);
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
