import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ProfileUpdate } from '../profiles/types';

/**
 * Valid rows of a batch, written to a temporary file while the body is parsed and read back in
 * chunks when the batch is applied, so a 50 MB batch never sits in memory as objects.
 */
export class BatchSpool {
  private count = 0;
  /** The first error of the file stream; later writes and `finish` throw it. */
  private failure: Error | null = null;
  private constructor(
    private readonly dir: string,
    private readonly file: string,
    private readonly out: WriteStream,
  ) {
    // Without a listener, a write error (full disk) or a destroy with writes pending would be
    // an unhandled 'error' event and take the whole process down.
    out.on('error', (error) => {
      this.failure ??= error;
    });
  }

  /** Creates an empty spool in a new private folder under `parent` (the OS temp folder by default). */
  static async create(parent = tmpdir()): Promise<BatchSpool> {
    const dir = await mkdtemp(join(parent, 'profilegate-batch-'));
    const file = join(dir, 'rows.ndjson');
    return new BatchSpool(dir, file, createWriteStream(file, { mode: 0o600 }));
  }

  /** Number of rows written. */
  get size(): number {
    return this.count;
  }

  /** Appends one row; resolves when the file can take more (back-pressure). */
  async write(update: ProfileUpdate): Promise<void> {
    if (this.failure) throw this.failure;
    this.count++;
    const line = JSON.stringify([update.key.kind === 'pcId' ? 0 : 1, update.key.id, update.attributes]) + '\n';
    if (this.out.write(line)) return;
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        this.out.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.out.off('drain', onDrain);
        reject(this.failure ?? new Error('The batch spool file was closed'));
      };
      this.out.once('drain', onDrain);
      this.out.once('close', onClose);
    });
  }

  /** Flushes and closes the file; call once, before reading. */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) =>
      this.out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }

  /** Reads the rows back in chunks of `chunkSize`. */
  async *chunks(chunkSize = 1000): AsyncGenerator<ProfileUpdate[]> {
    const lines = createInterface({ input: createReadStream(this.file), crlfDelay: Infinity });
    let chunk: ProfileUpdate[] = [];
    for await (const line of lines) {
      if (line === '') continue;
      const [kind, id, attributes] = JSON.parse(line) as [0 | 1, string, Record<string, string>];
      chunk.push({ key: { kind: kind === 0 ? 'pcId' : 'thirdPartyId', id }, attributes });
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  /** Deletes the file and its folder. */
  async dispose(): Promise<void> {
    if (!this.out.closed) {
      const closed = new Promise<void>((resolve) => this.out.once('close', () => resolve()));
      this.out.destroy();
      await closed;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
