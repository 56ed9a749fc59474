import { BATCH_SHAPE_LIMITS } from './bounds';

const CR = 13;

/** What FormRecords hands its records to, and asks how wide the record being read may grow. */
export interface RecordSink {
  accept(cells: string[]): void;
  /** Most cells the record being read may have. */
  maxCells(): number;
  /** The error of the record being read when it has more than `maxCells()` cells. */
  tooWide(): Error;
  /** The error of the record being read when it is over `BATCH_SHAPE_LIMITS.maxRecordChars`. */
  tooLong(): Error;
}

/**
 * Splits a form body (Adobe's batch file after `batch=`) into records of raw cells. A form has no
 * quoting: every comma separates cells and every line break (`\n` or `\r\n`) ends a record, so a
 * plain split gives what csv-parse gives with `quote: false`, several times faster. Blank lines
 * are records too (the reader counts them as lines and skips them).
 *
 * A line is never held past `BATCH_SHAPE_LIMITS.maxRecordChars` characters or the sink's
 * `maxCells()` cells: the record is refused while it arrives.
 */
export class FormRecords {
  /** Text after the last line break so far, in pieces (a line may span many chunks). */
  private carry: string[] = [];
  private carryChars = 0;
  /** Commas in `carry`, counted only up to the limit. */
  private carryCommas = 0;

  constructor(private readonly sink: RecordSink) {}

  /** Takes the next chunk (whole UTF-8 sequences only), or null at the end of the body. */
  push(data: Buffer | null): void {
    if (data === null) {
      const last = this.carry.join('');
      this.dropCarry();
      if (last !== '') this.sink.accept(last.split(','));
      return;
    }
    const text = data.toString('utf8');
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      if (this.carry.length > 0) {
        const piece = text.slice(start, end);
        this.check(piece);
        this.carry.push(piece);
        const line = this.carry.join('');
        this.dropCarry();
        this.sink.accept(lineCells(line, 0, line.length));
      } else {
        this.sink.accept(lineCells(text, start, end));
      }
      start = end + 1;
    }
    if (start < text.length) {
      const rest = text.slice(start);
      this.check(rest);
      this.carry.push(rest);
    }
  }

  /** Counts `piece` into the line being read; throws when the line grows past a limit. */
  private check(piece: string): void {
    const allowed = this.sink.maxCells() - 1;
    for (let at = piece.indexOf(','); at !== -1 && this.carryCommas <= allowed; at = piece.indexOf(',', at + 1)) {
      this.carryCommas++;
    }
    if (this.carryCommas > allowed) throw this.sink.tooWide();
    this.carryChars += piece.length;
    if (this.carryChars > BATCH_SHAPE_LIMITS.maxRecordChars) throw this.sink.tooLong();
  }

  private dropCarry(): void {
    this.carry = [];
    this.carryChars = 0;
    this.carryCommas = 0;
  }
}

/**
 * The cells of the line `text[start, end)` (without its `\n`; a `\r` before it is not part of the
 * last cell). Cut out of `text` directly: the line itself is never made a string, and a loop of
 * indexOf is faster than String#split for a handful of short cells.
 */
function lineCells(text: string, start: number, end: number): string[] {
  if (end > start && text.charCodeAt(end - 1) === CR) end--;
  const cells: string[] = [];
  for (let comma = text.indexOf(',', start); comma !== -1 && comma < end; comma = text.indexOf(',', start)) {
    cells.push(text.slice(start, comma));
    start = comma + 1;
  }
  cells.push(text.slice(start, end));
  return cells;
}
