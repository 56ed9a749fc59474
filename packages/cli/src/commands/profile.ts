import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type FetchedProfile, type ProfileClient, type ProfileIdKind } from '@profilegate/client';
import { Command, Option } from 'commander';
import { confirmDestructive } from '../confirm';
import { CommandContext, globalOptions, type Streams } from '../context';
import { UsageError } from '../errors';
import { withExamples } from '../examples';
import { startCount } from '../progress';
import { profileTokenFor } from './batch';

interface KeyOptions {
  thirdPartyId?: boolean;
  marketingCloudVisitorId?: boolean;
}

/** `profilegate profile get|delete|export` (API.md 2.4 and 5). */
export function profileCommand(streams: Streams): Command {
  const profile = new Command('profile').description('Read, delete or export profiles');
  withExamples(profile, [
    'profilegate profile get crm-42 --third-party-id',
    'profilegate profile export --format csv --output profiles.csv',
  ]);
  const keyed = (command: Command) =>
    command
      .option('--third-party-id', 'the id is a thirdPartyId (mbox3rdPartyId)')
      .option('--marketing-cloud-visitor-id', 'the id is an Experience Cloud ID');
  const get = keyed(
    profile
      .command('get')
      .description('Show one profile with its attributes (pcId by default)')
      .argument('<id>', 'the pcId, or with --third-party-id the thirdPartyId'),
  ).action(async (id: string, options: KeyOptions, command: Command) => {
    const ctx = new CommandContext(globalOptions(command), streams);
    ctx.refuseForAdobe(
      "profile get reads a Profilegate server's profiles; Adobe Target's Admin API token routes have none (--target profilegate for a server).",
    );
    await getProfile(ctx, kindOf(options), id);
  });
  withExamples(get, [
    'profilegate profile get 1700000000000-123456.01_0',
    'profilegate profile get crm-42 --third-party-id --json',
  ]);
  const del = keyed(
    profile
      .command('delete')
      .description('Delete profiles with their attributes and id links, for good (asks first on a terminal)')
      .argument('<id...>', 'pcIds, or with --third-party-id thirdPartyIds'),
  ).action(async (ids: string[], options: KeyOptions, command: Command) => {
    const ctx = new CommandContext(globalOptions(command), streams);
    ctx.refuseForAdobe(
      "profile delete deletes a Profilegate server's profiles, not Adobe Target's (--target profilegate for a server).",
    );
    await deleteProfiles(ctx, kindOf(options), ids);
  });
  withExamples(del, [
    'profilegate profile delete crm-42 crm-43 --third-party-id',
    'profilegate profile delete crm-42 --third-party-id --yes   # without a terminal',
  ]);
  const exportCommand = profile
    .command('export')
    .description('Download every profile of the client as NDJSON or CSV (admin role), with progress on stderr')
    .addOption(new Option('--format <format>', 'ndjson or csv').choices(['ndjson', 'csv']).makeOptionMandatory())
    .addOption(
      new Option('--key <key>', 'CSV key column; thirdPartyId exports only profiles that have one').choices([
        'pcId',
        'thirdPartyId',
      ]),
    )
    .requiredOption('--output <file>', 'file to write (replaced once the download is complete)')
    .action(async (options: ExportOptions, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      ctx.refuseForAdobe(
        "profile export reads a Profilegate server's profiles; Adobe Target's Admin API token routes have none (--target profilegate for a server).",
      );
      await exportProfiles(ctx, options);
    });
  withExamples(exportCommand, [
    'profilegate profile export --format ndjson --output profiles.ndjson',
    'profilegate profile export --format csv --key thirdPartyId --output profiles.csv',
  ]);
  return profile;
}

function kindOf(options: KeyOptions): ProfileIdKind {
  if (options.thirdPartyId && options.marketingCloudVisitorId) {
    throw new UsageError('Give at most one of --third-party-id and --marketing-cloud-visitor-id');
  }
  if (options.thirdPartyId) return 'thirdPartyId';
  return options.marketingCloudVisitorId ? 'marketingCloudVisitorId' : 'pcId';
}

/** The API client and the profile token the bearer gate wants (read with the admin key when there is one). */
async function gated(ctx: CommandContext): Promise<{ api: ProfileClient; token: string | undefined }> {
  const api = ctx.profileApi(false);
  return { api, token: await profileTokenFor(ctx, api) };
}

async function getProfile(ctx: CommandContext, kind: ProfileIdKind, id: string): Promise<void> {
  const { api, token } = await gated(ctx);
  const profile = await api.getProfile(kind, id, token);
  ctx.result(profile);
  for (const line of describeProfile(profile)) ctx.say(line);
}

/** The human lines of a profile; `say` escapes each (ids, names and values come from the server). */
function describeProfile(profile: FetchedProfile): string[] {
  const lines = [`pcId: ${profile.visitorId}`];
  if (profile.thirdPartyId !== undefined) lines.push(`thirdPartyId: ${profile.thirdPartyId}`);
  if (profile.marketingCloudVisitorId !== undefined) {
    lines.push(`marketingCloudVisitorId: ${profile.marketingCloudVisitorId}`);
  }
  lines.push(`modified: ${profile.modifiedAt}`);
  const names = Object.keys(profile.profileAttributes);
  lines.push(names.length === 0 ? 'no attributes' : 'attributes:');
  for (const name of names) lines.push(`  ${name} = ${profile.profileAttributes[name]!.value}`);
  return lines;
}

async function deleteProfiles(ctx: CommandContext, kind: ProfileIdKind, ids: string[]): Promise<void> {
  const what = `${ids.length === 1 ? 'the profile' : `${ids.length} profiles`} ${ids.join(', ')}`;
  await confirmDestructive(ctx, {
    question: `Delete ${what} (${kind}) of client ${ctx.client}?`,
    consequences: ['Their attributes and id links go for good; a deleted profile cannot be brought back.'],
  });
  const { api, token } = await gated(ctx);
  const deleted: string[] = [];
  for (const id of ids) {
    try {
      await api.deleteProfile(kind, id, token);
    } catch (error) {
      if (deleted.length > 0) ctx.note(`Deleted before the failure: ${deleted.join(', ')}`);
      throw error;
    }
    deleted.push(id);
    ctx.say(`Deleted profile ${kind}=${id}.`);
  }
  ctx.result({ client: ctx.client, kind, deleted });
}

interface ExportOptions {
  format: 'ndjson' | 'csv';
  key?: 'pcId' | 'thirdPartyId';
  output: string;
}

async function exportProfiles(ctx: CommandContext, options: ExportOptions): Promise<void> {
  const output = resolve(ctx.streams.cwd, options.output);
  const api = ctx.profileApi(true);
  // Written beside the output (mode 0600: personal data), renamed over it once complete: a cut
  // download never looks whole. Opened before the server is asked, so a bad path starts no export.
  const partial = join(dirname(output), `.${basename(output)}.partial`);
  const existing = await fs.stat(output).catch(() => null);
  if (existing?.isDirectory() === true) {
    const example = join(options.output, `profiles.${options.format}`);
    throw new UsageError(`--output ${options.output} is a folder; give a file name, e.g. ${example}`);
  }
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(partial, 'w', 0o600);
  } catch {
    throw new UsageError(`Cannot write ${options.output}; give a file in a folder that exists and you may write to`);
  }
  const rows = new RowCounter(options.format);
  const counter = startCount(ctx, `Exporting ${options.format}`);
  let bytes = 0;
  try {
    const download = await api.exportProfiles({
      format: options.format,
      ...(options.key ? { key: options.key } : {}),
    });
    // pipeline: the file's backpressure paces the download, and an error on either side ends both.
    await pipeline(
      download.body,
      async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          bytes += chunk.length;
          rows.add(chunk);
          counter.update(rows.count, bytes);
          yield chunk;
        }
      },
      handle.createWriteStream(),
    );
    await fs.rename(partial, output);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(partial, { force: true });
    throw error;
  } finally {
    counter.stop();
  }
  ctx.result({
    client: ctx.client,
    format: options.format,
    key: options.key ?? 'pcId',
    rows: rows.count,
    bytes,
    output,
  });
  ctx.say(`Exported ${rows.count} profiles (${bytes} bytes) to ${options.output}.`);
}

/** Counts the records of an export as it arrives: NDJSON lines, or CSV lines outside quotes after the header. */
class RowCounter {
  private lines = 0;
  private quoted = false;

  constructor(private readonly format: 'ndjson' | 'csv') {}

  get count(): number {
    return this.format === 'csv' ? Math.max(0, this.lines - 1) : this.lines;
  }

  add(chunk: Uint8Array): void {
    if (this.format === 'ndjson') {
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) this.lines++;
      return;
    }
    for (const byte of chunk) {
      if (byte === 34) this.quoted = !this.quoted;
      else if (byte === 10 && !this.quoted) this.lines++;
    }
  }
}
