import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { AdminApiError, batchFormPrefix, displayText, type AdminClient, type BatchStatus } from '@profilegate/client';
import { Command } from 'commander';
import { CommandContext, globalOptions, type Streams } from '../context';
import { CommandFailedError, UsageError } from '../errors';
import { withExamples } from '../examples';
import { startProgress } from '../progress';

/** How often --wait polls, growing from the first to the last value. */
const POLL_MS = [200, 500, 1000, 2000];

/** `profilegate batch upload <file.csv> [--v1] [--wait]`. */
export function batchCommand(streams: Streams): Command {
  const batch = new Command('batch').description('Upload profile batches');
  withExamples(batch, ['profilegate batch upload profiles.csv --wait']);
  const uploadCommand = batch
    .command('upload')
    .description("Upload a batch file: Adobe's form (batch=…) or plain CSV, sent as it is")
    .argument('<file>', 'CSV file: a header (thirdPartyId or pcId, then attribute names), then rows')
    .option('--v1', 'use the v1 route: update existing profiles only')
    .option('--wait', 'wait until the batch is applied; exit 1 when a row failed')
    .action(async (file: string, options: { v1?: boolean; wait?: boolean }, command: Command) => {
      const ctx = new CommandContext(globalOptions(command), streams);
      ctx.refuseForAdobe(
        'batch upload sends to a Profilegate server, not to Adobe Target (choose the server with --target profilegate).',
      );
      await upload(ctx, file, options);
    });
  withExamples(uploadCommand, [
    'profilegate batch upload profiles.csv --wait',
    'profilegate batch upload existing-only.csv --v1 --json',
  ]);
  return batch;
}

async function upload(ctx: CommandContext, file: string, options: { v1?: boolean; wait?: boolean }): Promise<void> {
  const body = await readBatchFile(ctx, file);
  // The bytes go as they are: the server reads both forms (API.md 2.1), checks the UTF-8 and
  // names the line of any fault, so the CLI neither decodes nor re-encodes the CSV.
  const contentType = batchFormPrefix(body)?.form ? 'application/x-www-form-urlencoded' : 'text/csv';
  const api = ctx.api(false);
  const profileToken = await profileTokenFor(ctx, api);
  const v1 = options.v1 === true;

  const progress = startProgress(ctx, 'Uploading', 'bytes');
  progress.update(0, body.length);
  const submitted = await api.uploadBatch(body, { v1, contentType, ...(profileToken ? { profileToken } : {}) });
  progress.update(body.length, body.length);
  progress.stop();
  if (!options.wait) {
    ctx.result({
      client: ctx.client,
      batchId: submitted.batchId,
      batchStatus: submitted.batchStatus,
      message: submitted.message,
    });
    ctx.say(`Batch ${submitted.batchId} submitted for processing. Status: ${submitted.batchStatus}`);
    return;
  }

  ctx.say(`Batch ${submitted.batchId} submitted; waiting until it is applied…`);
  const status = await waitForBatch(ctx, api, submitted.batchId, { v1, ...(profileToken ? { profileToken } : {}) });
  const failed = status.profiles ?? [];
  const notFound = status.profilesNotFound ?? 0;
  const ok = status.status === 'complete' && (status.failedUpdates ?? failed.length) === 0 && notFound === 0;
  ctx.result({ client: ctx.client, batchStatus: submitted.batchStatus, ok, ...status });
  ctx.say(
    `Batch ${status.batchId} ${status.status}: ${status.successfulUpdates ?? 0} of ${status.batchSize} rows applied` +
      `, ${status.failedUpdates ?? failed.length} failed${notFound > 0 ? `, ${notFound} profiles not found` : ''}.`,
  );
  if (status.status === 'stuck') {
    throw new CommandFailedError(
      `Batch ${displayText(status.batchId)} could not be applied: ${displayText(status.message ?? 'no reason given')}`,
      true,
    );
  }
  if (!ok) {
    // Escaped one by one: a line break in an id must not start a line of its own.
    const lines = failed.map((row) => `  ${displayText(row.id)}: ${displayText(row.message)}`);
    if (notFound > 0)
      lines.push(`  ${notFound} rows name profiles that do not exist (v1 updates existing profiles only)`);
    const more =
      (status.failedUpdates ?? 0) > failed.length
        ? `\n  (and ${(status.failedUpdates ?? 0) - failed.length} more)`
        : '';
    throw new CommandFailedError(
      `Batch ${displayText(status.batchId)} has failed rows:\n${lines.join('\n')}${more}`,
      true,
    );
  }
}

/** The token the bearer gate wants, read with the admin key when there is one; else none. */
export async function profileTokenFor(ctx: CommandContext, api: AdminClient): Promise<string | undefined> {
  if (!ctx.hasAdminKey) return undefined;
  try {
    return (await api.getToken())?.accessToken;
  } catch (error) {
    // An editor's key may not read the token; the upload then goes without it.
    if (error instanceof AdminApiError && error.status === 403) return undefined;
    throw error;
  }
}

/** How `waitForBatch` waits between polls and measures the rate; swapped in tests. */
export interface WaitTiming {
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
}

const REAL_TIMING: WaitTiming = {
  clock: Date.now,
  sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
};

/**
 * Polls the batch status until it is no longer `incomplete`, moving a bar with the rows applied so
 * far (`appliedCount`, API.md 2.2), the rows per second and the time left. The bar never goes back:
 * an instance that is not applying the batch answers without `appliedCount`, and a store that
 * starts its transaction over counts again from the start.
 */
export async function waitForBatch(
  ctx: CommandContext,
  api: Pick<AdminClient, 'getBatchStatus'>,
  batchId: string,
  options: { v1: boolean; profileToken?: string },
  timing: WaitTiming = REAL_TIMING,
): Promise<BatchStatus> {
  const progress = startProgress(ctx, `Applying ${batchId}`, 'rows', { rate: true, clock: timing.clock });
  let shown = 0;
  try {
    for (let attempt = 0; ; attempt++) {
      const status = await api.getBatchStatus(batchId, {
        v1: options.v1,
        showDetails: true,
        ...(options.profileToken ? { profileToken: options.profileToken } : {}),
      });
      const applied = status.status === 'incomplete' ? (status.appliedCount ?? 0) : status.batchSize;
      shown = Math.min(status.batchSize, Math.max(shown, applied, status.consumedCount ?? 0));
      progress.update(shown, status.batchSize);
      if (status.status !== 'incomplete') return status;
      await timing.sleep(POLL_MS[Math.min(attempt, POLL_MS.length - 1)] as number);
    }
  } finally {
    progress.stop();
  }
}

/**
 * The batch file's bytes, or a usage error (exit 2) when it cannot be read, is empty or is not text
 * (a NUL byte: an image, an archive, a spreadsheet): such a file is a mistake on this side, and the
 * server's answer would only quote its bytes back.
 */
async function readBatchFile(ctx: CommandContext, file: string): Promise<Buffer> {
  let body: Buffer;
  try {
    body = await fs.readFile(resolve(ctx.streams.cwd, file));
  } catch {
    throw new UsageError(`Cannot read ${displayText(file)}; give the path of a CSV file`);
  }
  const text = body.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])) ? body.subarray(3) : body;
  if (text.toString('latin1').trim() === '') {
    throw new UsageError(`${displayText(file)} is empty; a batch file holds a header line, then one row per profile`);
  }
  if (body.includes(0)) {
    throw new UsageError(
      `${displayText(file)} is not a text file (it holds NUL bytes); give a CSV file saved as UTF-8 text`,
    );
  }
  return body;
}
