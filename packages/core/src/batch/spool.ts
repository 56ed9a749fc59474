import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchKey, ProfileUpdate } from '../profiles/types';
import { decodeBatchRows, encodeBatchRow } from '../store/encoded-rows';
import type { EncodedBatchRows } from '../store/types';

/** One spooled row: batches name profiles by pcId or thirdPartyId only. */
type SpooledRow = ProfileUpdate<BatchKey>;

/**
 * Bytes of rows gathered before one write to the file. Each write cost the server's main thread
 * far more than its bytes in the ingest bench (writeBuffer 1.3–1.5 s for 64 KB slices of a 51 MB
 * body, 0.4–0.5 s for 256 KB).
 */
const WRITE_SLICE_BYTES = 256 * 1024;
const NEWLINE = 10;
const EMPTY = Buffer.alloc(0);

/**
 * Valid rows of a batch, written to a temporary file while the body is parsed and read back in
 * chunks when the batch is applied, so a 50 MB batch never sits in memory as objects.
 */
export class BatchSpool {
  private count = 0;
  /**
   * The rows not yet handed to the file stream, as the file's bytes: each row is encoded into the
   * slice being filled as it comes (no joined text to convert again), and a slice is set aside,
   * ready for the file, when the next row does not fit in it.
   */
  private slice: Buffer = EMPTY;
  private used = 0;
  private ready: Buffer[] = [];
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

  /** Appends one row; resolves, with the row's encoded line, when the file can take more (back-pressure). */
  async write(update: SpooledRow): Promise<string> {
    const line = this.append(update);
    if (this.full) await this.flush();
    return line;
  }

  /**
   * Appends one row and returns its encoded line at once: `write` without its promise, for the
   * rows of a large batch. When `full` is then true, the caller awaits `flush()` before the next
   * row, as `write` does, so the file's back-pressure still holds.
   */
  append(update: SpooledRow): string {
    if (this.failure) throw this.failure;
    this.count++;
    const line = encodeBatchRow(update);
    // UTF-8 takes at most 3 bytes for each UTF-16 unit; then the line break.
    const most = line.length * 3 + 1;
    if (this.used + most > this.slice.length) this.startSlice(most);
    this.used += this.slice.write(line, this.used);
    this.slice[this.used++] = NEWLINE;
    return line;
  }

  /** Whether a slice of rows is ready for the file: `flush()` is due. */
  get full(): boolean {
    // Rows go to the file in slices of about 256 KB: one stream write per row costs more than the row.
    return this.ready.length > 0;
  }

  /** Flushes and closes the file; call once, before reading. */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure;
    this.startSlice(0);
    await this.flush();
    await new Promise<void>((resolve, reject) =>
      this.out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }

  /** Sets the rows of the slice being filled aside for the file, and starts one with room for `bytes`. */
  private startSlice(bytes: number): void {
    if (this.used > 0) this.ready.push(this.slice.subarray(0, this.used));
    // A fresh buffer each time: the stream holds on to the slices set aside until they are written.
    this.slice = bytes === 0 ? EMPTY : Buffer.allocUnsafe(Math.max(WRITE_SLICE_BYTES, bytes));
    this.used = 0;
  }

  /** Writes the slices set aside; waits while the file's buffer is full. */
  async flush(): Promise<void> {
    if (this.ready.length === 0) return;
    const slices = this.ready;
    this.ready = [];
    let more = true;
    for (const slice of slices) more = this.out.write(slice);
    if (more) return;
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

  /** Reads the rows back in chunks of `chunkSize`. */
  async *chunks(chunkSize = 1000): AsyncGenerator<SpooledRow[]> {
    for await (const chunk of this.encodedChunks(chunkSize)) yield decodeBatchRows(chunk.lines);
  }

  /** Reads the rows back in chunks of `chunkSize`, still encoded (store/encoded-rows.ts). */
  async *encodedChunks(chunkSize = 1000): AsyncGenerator<EncodedBatchRows> {
    // Rows are JSON without raw line breaks, one a line: `chunkSize` lines a chunk.
    let lines: string[] = [];
    let rest = '';
    const input = createReadStream(this.file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
    for await (const text of input as AsyncIterable<string>) {
      let start = 0;
      for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
        const line = rest + text.slice(start, end);
        rest = '';
        start = end + 1;
        if (line === '') continue;
        lines.push(line);
        if (lines.length >= chunkSize) {
          yield { lines };
          lines = [];
        }
      }
      rest += text.slice(start);
    }
    if (rest !== '') lines.push(rest);
    if (lines.length > 0) yield { lines };
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
