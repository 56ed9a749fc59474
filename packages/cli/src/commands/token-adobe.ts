/**
 * `token show|generate|replace` for an Adobe Target target (issue 21), through the client's
 * RotationTarget: the token is read first, the files are previewed with that value and the ones
 * kept from earlier rotations (adobe-history.ts), then the token is regenerated and every copy
 * replaced, with the same preview, masking, messages and confirmation as for Profilegate.
 */
import {
  describeTimeLeft,
  displayText,
  maskToken,
  nextTokenHistory,
  type AdobeAuthorizationScope,
  type TargetToken,
  type UpdateTokenInFilesResult,
} from '@profilegate/client';
import { historyFile, readHistory, writeHistory } from '../adobe-history';
import { confirmDestructive } from '../confirm';
import type { CommandContext } from '../context';
import { CommandFailedError, UsageError } from '../errors';
import type { GenerateOptions, ReplaceOptions } from './token';
import {
  PLACEHOLDER_TOKEN,
  checkPaths,
  checkWritable,
  filesJson,
  printFiles,
  readNewToken,
  updateFiles,
} from './token-files';

function tokenJson(ctx: CommandContext, token: TargetToken): Record<string, unknown> {
  return {
    ...(ctx.reveal ? { accessToken: token.accessToken } : {}),
    accessTokenMasked: maskToken(token.accessToken),
    expiresIn: token.expiresIn,
  };
}

function head(ctx: CommandContext, scope: AdobeAuthorizationScope): Record<string, unknown> {
  return { target: 'adobe', tenant: ctx.adobe().tenant, scope };
}

/** `token show` for Adobe: the current token of `scope`, masked unless --reveal. */
export async function adobeShow(ctx: CommandContext, scope: AdobeAuthorizationScope): Promise<void> {
  const adobe = ctx.adobe();
  const token = await adobe.target(scope).currentToken();
  const label = adobe.label(scope);
  if (token === null) {
    ctx.result({ ...head(ctx, scope), token: null });
    ctx.say(`${label} has no token; create one with: profilegate token generate --scope ${scope}`);
    return;
  }
  ctx.result({ ...head(ctx, scope), token: tokenJson(ctx, token) });
  ctx.say(`Token of ${label}: ${ctx.show(token.accessToken)}`);
  ctx.say(`Expires in ${describeTimeLeft(token.expiresIn * 1000)}.`);
}

/** `token generate` for Adobe: --grace and --expires-in are refused, the rest as for Profilegate. */
export async function adobeGenerate(
  ctx: CommandContext,
  scope: AdobeAuthorizationScope,
  options: GenerateOptions,
): Promise<void> {
  if (options.grace !== undefined) {
    throw new UsageError(
      'Adobe Target has no grace period: the previous token stops working as soon as a new one is ' +
        'generated, so --grace cannot be used with an Adobe target.',
    );
  }
  if (options.expiresIn !== undefined) {
    throw new UsageError(
      'Adobe Target chooses the lifetime of its tokens itself; --expires-in cannot be used with an Adobe target.',
    );
  }
  const adobe = ctx.adobe();
  const label = adobe.label(scope);
  const paths = options.update ?? [];
  await checkPaths(ctx, paths);
  const target = adobe.target(scope);
  const file = historyFile(ctx.streams.env, adobe.tenant, scope);
  const earlier = await readHistory(file, (line) => ctx.note(line));

  // Read first: the exact value to replace is the one Adobe holds now (plus the earlier ones).
  const current = await target.currentToken();
  const replaced = current === null ? [] : [current.accessToken];
  const oldTokens = nextTokenHistory(earlier, replaced, '', Infinity);

  const planned =
    paths.length > 0 ? await updateFiles(ctx, paths, oldTokens, PLACEHOLDER_TOKEN, true, null) : undefined;
  if (planned !== undefined && planned.filesScanned + planned.skipped.length === 0) {
    throw new UsageError(
      `--update ${paths.join(' ')} matched no file; nothing was changed (no token was generated). ` +
        'Check the paths and globs (quote globs so the shell does not expand them).',
    );
  }

  if (planned !== undefined && options.dryRun !== true) await checkWritable(ctx, planned);

  if (options.dryRun === true) {
    ctx.result({ ...head(ctx, scope), dryRun: true, generated: false, files: planned && filesJson(ctx, planned) });
    ctx.say(
      `Dry run: would generate a new token for ${label}${current === null ? '' : ` replacing ${maskToken(current.accessToken)}`}.`,
    );
    if (planned !== undefined) printFiles(ctx, planned, true);
    return;
  }

  const consequences = [
    current === null
      ? 'There is no current token.'
      : `The current token (${maskToken(current.accessToken)}) stops working at once (Adobe Target has no grace period).`,
  ];
  if (planned !== undefined) {
    consequences.push(
      `Then ${planned.copies} ${planned.copies === 1 ? 'copy' : 'copies'} in ${planned.filesChanged.length} of ` +
        `${planned.filesScanned} files scanned are replaced (see --dry-run).`,
    );
  }
  await confirmDestructive(ctx, {
    question: `Generate a new token for ${label} at ${adobe.client.adminUrl}?`,
    consequences,
  });

  const token = await target.regenerate();
  // Kept before the files are touched, so a failed update can still be finished with `token replace`.
  try {
    await writeHistory(file, nextTokenHistory(earlier, replaced, token.accessToken));
  } catch (error) {
    ctx.note(
      `Could not keep the replaced token in ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}); ` +
        'a later rotation will not look for its copies.',
    );
  }

  let files: UpdateTokenInFilesResult | undefined;
  if (paths.length > 0) {
    try {
      files = await updateFiles(
        ctx,
        paths,
        oldTokens.filter((t) => t !== token.accessToken),
        token.accessToken,
        false,
        null,
      );
    } catch (error) {
      throw new CommandFailedError(
        `Generated a new token (${maskToken(token.accessToken)}) but updating the files failed: ` +
          `${displayText(error instanceof Error ? error.message : String(error))}. Finish with: ` +
          `profilegate token show --scope ${scope} --reveal, then profilegate token replace --scope ${scope} --new - <paths>`,
      );
    }
  }
  ctx.result({ ...head(ctx, scope), token: tokenJson(ctx, token), files: files && filesJson(ctx, files) });
  ctx.say(`New token for ${label}: ${ctx.show(token.accessToken)}`);
  ctx.say(
    `New token expires in ${describeTimeLeft(token.expiresIn * 1000)}.` +
      (current === null ? '' : ' The previous token no longer works.'),
  );
  if (files !== undefined) printFiles(ctx, files, false);
}

/**
 * `token replace` for Adobe: the copies of --old and of the tokens kept from earlier rotations
 * are replaced by --new; Adobe is not called (its tokens are opaque: no check of the new one).
 */
export async function adobeReplace(
  ctx: CommandContext,
  scope: AdobeAuthorizationScope,
  paths: string[],
  options: ReplaceOptions,
): Promise<void> {
  const newToken = await readNewToken(ctx, options);
  const adobe = ctx.adobe();
  await checkPaths(ctx, paths);
  const file = historyFile(ctx.streams.env, adobe.tenant, scope);
  const earlier = await readHistory(file, (line) => ctx.note(line));
  const oldTokens = nextTokenHistory(
    earlier,
    options.old === undefined ? [] : [options.old.trim()],
    newToken,
    Infinity,
  );
  if (oldTokens.length === 0) {
    throw new UsageError(
      `Give the token to replace with --old: Adobe tokens are opaque, so copies are found by value only, ` +
        `and no earlier token of ${adobe.label(scope)} is kept in ${file}.`,
    );
  }
  const files = await updateFiles(ctx, paths, oldTokens, newToken, options.dryRun === true, null);
  ctx.result({
    ...head(ctx, scope),
    dryRun: options.dryRun === true,
    newToken: ctx.show(newToken),
    files: filesJson(ctx, files),
  });
  ctx.say(`${options.dryRun === true ? 'Dry run: ' : ''}Replacing with ${ctx.show(newToken)}.`);
  printFiles(ctx, files, options.dryRun === true);
  if (files.copies === 0 && options.old === undefined) {
    // The files may hold a token the CLI never replaced (regenerated in Adobe's UI, say): only its
    // value finds its copies.
    const kept = oldTokens.length;
    ctx.note(
      `No copy of the ${kept} ${kept === 1 ? 'token' : 'tokens'} kept from earlier rotations was found. ` +
        `If the token in your files was replaced elsewhere (in Adobe's UI, say), name it: ` +
        `profilegate token replace --scope ${scope} --old <that token> --new - <paths>.`,
    );
  }
}
