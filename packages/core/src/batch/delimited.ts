import { CsvError, parse, type Parser } from 'csv-parse';
import { BatchRejectedError } from '../errors';
import {
  attributeNameProblem,
  attributeValueProblem,
  normalizeAttributeName,
  profileIdProblem,
} from '../profiles/rules';
import type { ProfileKey } from '../profiles/types';
import { FormRecords } from './form-records';
import {
  asTypedError,
  batchIsEmpty,
  bodyTooLarge,
  countNewlines,
  decodeFormCell,
  notUtf8,
  toBuffer,
  tooManyRows,
  Utf8Guard,
} from './text';
import type { BatchLimits, ParsedRow, RowFailure } from './types';

type Item = ParsedRow | RowFailure;

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const FORM_PREFIX = Buffer.from('batch=', 'ascii');
/** Bytes handed to csv-parse at a time, so the rows waiting to be yielded stay few. */
const SLICE = 64 * 1024;

/**
 * Parses a CSV batch body (`form`: Adobe's URL-encoded batch file after `batch=`; otherwise
 * RFC 4180 CSV) as a stream: one chunk of the source at a time goes through csv-parse, and the
 * rows it holds are yielded before the next chunk is read.
 */
export async function* parseDelimited(
  source: AsyncIterable<Buffer | string>,
  form: boolean,
  limits: BatchLimits,
): AsyncGenerator<Item> {
  const out: Item[] = [];
  const reader = new RowReader(form, limits, out);
  // A form has no quoting: split by hand. CSV goes through csv-parse.
  const split = form ? new FormRecords((record) => reader.accept(record)) : null;
  const parser = parse({
    bom: false, // stripped here, before `batch=`
    quote: form ? false : '"',
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    // Blank lines come through as records (skipped by the reader), so that every line is counted.
    skip_empty_lines: false,
  });
  parser.on('error', ignore); // errors arrive through the write callbacks
  const guard = new Utf8Guard();
  let head: Buffer | null = Buffer.alloc(0); // bytes before the BOM and `batch=` are settled
  let bytes = 0;
  try {
    for await (const chunk of source) {
      let data = toBuffer(chunk);
      bytes += data.length;
      if (bytes > limits.maxBytes) throw bodyTooLarge(limits);
      if (head !== null) {
        head = head.length === 0 ? data : Buffer.concat([head, data]);
        const rest = afterPrefix(head, form, false);
        if (rest === undefined) continue;
        head = null;
        data = rest;
      }
      const { valid, badLine } = guard.check(data);
      for (let at = 0; at < valid.length; at += SLICE) {
        if (split) split.push(valid.subarray(at, at + SLICE));
        else await feed(parser, reader, valid.subarray(at, at + SLICE));
        for (const item of out) yield item;
        out.length = 0;
      }
      if (badLine !== null) throw notUtf8(badLine);
    }
    if (head !== null) {
      const rest = afterPrefix(head, form, true) ?? Buffer.alloc(0);
      const { valid, badLine } = guard.check(rest);
      if (split) split.push(valid);
      else await feed(parser, reader, valid);
      if (badLine !== null) throw notUtf8(badLine);
    }
    const cutLine = guard.finish();
    if (cutLine !== null) throw notUtf8(cutLine);
    if (split) split.push(null);
    else await feed(parser, reader, null);
    for (const item of out) yield item;
    out.length = 0;
    if (reader.dataRows === 0) throw batchIsEmpty();
  } catch (error) {
    if (error instanceof CsvError) throw csvProblem(error, reader);
    throw asTypedError(error);
  } finally {
    parser.destroy();
  }
}

function ignore(): void {}

/**
 * Hands `data` (or the end of the body, for null) to csv-parse and its records to the reader.
 * csv-parse splits a chunk synchronously inside `write`, so its records are read before the write
 * callback is awaited (the callback waits for them to be read when they are many).
 */
async function feed(parser: Parser, reader: RowReader, data: Buffer | null): Promise<void> {
  if (data !== null && data.length === 0) return;
  const done = new Promise<void>((resolve, reject) => {
    const callback = (error?: Error | null): void => (error ? reject(error) : resolve());
    if (data === null) parser.end(callback);
    else parser.write(data, callback);
  });
  done.catch(ignore); // awaited below, unless the reader throws first
  readRecords(parser, reader);
  await done;
  readRecords(parser, reader);
}

function readRecords(parser: Parser, reader: RowReader): void {
  for (let record = parser.read() as string[] | null; record !== null; record = parser.read() as string[] | null) {
    reader.accept(record);
  }
}

/**
 * The body after a UTF-8 BOM and, for a form, after `batch=`; undefined while `head` is too
 * short to tell (and `atEnd` is false).
 */
function afterPrefix(head: Buffer, form: boolean, atEnd: boolean): Buffer | undefined {
  let start = 0;
  const bomBytes = Math.min(head.length, BOM.length);
  if (head.subarray(0, bomBytes).equals(BOM.subarray(0, bomBytes))) {
    if (bomBytes < BOM.length && !atEnd) return undefined;
    if (bomBytes === BOM.length) start = BOM.length;
  }
  if (!form) return head.subarray(start);
  const rest = head.subarray(start);
  if (rest.length === 0 && atEnd) return rest; // an empty body: "Batch is empty"
  const prefixBytes = Math.min(rest.length, FORM_PREFIX.length);
  if (rest.subarray(0, prefixBytes).equals(FORM_PREFIX.subarray(0, prefixBytes))) {
    if (prefixBytes === FORM_PREFIX.length) return rest.subarray(FORM_PREFIX.length);
    if (!atEnd) return undefined;
  }
  throw new BatchRejectedError(
    'A form body must start with "batch=" followed by the lines of the batch file (send the file with curl --data-binary @file)',
    1,
  );
}

function csvProblem(error: CsvError, reader: RowReader): BatchRejectedError {
  const line = reader.lineOf();
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new BatchRejectedError('A quoted field is not closed; end it with a double quote (")', line);
    case 'CSV_INVALID_CLOSING_QUOTE':
      return new BatchRejectedError(
        'A closing double quote must be followed by a comma or the end of the line; write a double quote inside a quoted field as ""',
        line,
      );
    case 'INVALID_OPENING_QUOTE':
      return new BatchRejectedError(
        'A double quote (") inside a field that does not start with one; quote the whole field and write the quote as ""',
        line,
      );
    default:
      return new BatchRejectedError('The CSV could not be read; check the quoting of this line', line);
  }
}

/** Turns the records of csv-parse into rows: reads the header, then checks every row against it. */
class RowReader {
  /** Records received (header, rows and whitespace-only lines). */
  private records = 0;
  /** `\n` characters inside the fields of the records received (quoted line breaks). */
  private innerNewlines = 0;
  private kind: ProfileKey['kind'] | null = null;
  /** Attribute name of each column after the id column. */
  private names: string[] = [];
  /** Data rows seen, failed ones included. */
  dataRows = 0;

  constructor(
    private readonly form: boolean,
    private readonly limits: BatchLimits,
    private readonly out: Item[],
  ) {}

  /**
   * 1-based line where the next record starts: every record before it (blank lines are records
   * too) took one line plus the line breaks quoted inside it.
   */
  lineOf(): number {
    return 1 + this.records + this.innerNewlines;
  }

  accept(record: string[]): void {
    const line = this.lineOf();
    this.records++;
    const cells = record.length;
    if (this.form) {
      for (let i = 0; i < cells; i++) record[i] = decodeFormCell(record[i], line);
    } else {
      for (let i = 0; i < cells; i++) {
        if (record[i].indexOf('\n') !== -1) this.innerNewlines += countNewlines(record[i]);
      }
    }
    if (isBlank(record)) return;
    const kind = this.kind;
    if (kind === null) {
      this.readHeader(record, line);
      return;
    }
    if (++this.dataRows > this.limits.maxRows) throw tooManyRows(this.limits);
    this.out.push(this.readRow(kind, record, line));
  }

  private readHeader(cells: string[], line: number): void {
    // A BOM left inside the body (a file saved with one, after a hand-written "batch=") is not part of the name.
    const first = cells[0].charCodeAt(0) === 0xfeff ? cells[0].slice(1) : cells[0];
    const lower = first.toLowerCase();
    const kind = lower === 'pcid' ? 'pcId' : lower === 'thirdpartyid' ? 'thirdPartyId' : null;
    if (kind === null) {
      throw new BatchRejectedError(
        `The first column of the header must be "pcId" or "thirdPartyId", not ${JSON.stringify(shorten(first))}${this.encodedHint(first)}`,
        line,
      );
    }
    if (cells.length < 2) {
      throw new BatchRejectedError(
        'The header has no attribute columns; list the attribute names after the id column, separated by commas',
        line,
      );
    }
    const names: string[] = [];
    const seen = new Set<string>();
    for (let i = 1; i < cells.length; i++) {
      const name = normalizeAttributeName(cells[i]);
      const problem = attributeNameProblem(name);
      if (problem !== null) throw new BatchRejectedError(`Header column ${i + 1}: ${problem}`, line);
      if (seen.has(name)) {
        throw new BatchRejectedError(
          `Attribute "${name}" appears more than once in the header; keep one column per attribute`,
          line,
        );
      }
      seen.add(name);
      names.push(name);
    }
    this.kind = kind;
    this.names = names;
  }

  /** A form body URL-encoded as a whole (commas and newlines as %2C and %0A) has a one-cell header. */
  private encodedHint(first: string): string {
    if (!this.form || (first.indexOf(',') === -1 && first.indexOf('\n') === -1)) return '';
    return '; the batch file looks URL-encoded as a whole: keep its commas and line breaks literal and URL-encode each cell';
  }

  private readRow(kind: ProfileKey['kind'], cells: string[], line: number): Item {
    const id = cells[0];
    const names = this.names;
    if (cells.length > names.length + 1) {
      return failure(line, id, `Row has ${cells.length} cells; the header has ${names.length + 1} columns`);
    }
    const key: ProfileKey = { kind, id };
    const idProblem = profileIdProblem(key);
    if (idProblem !== null) return failure(line, id, idProblem);
    const attributes: Record<string, string> = {};
    for (let i = 1; i < cells.length; i++) {
      const value = cells[i];
      if (value === '') continue;
      const name = names[i - 1];
      const problem = attributeValueProblem(name, value);
      if (problem !== null) return failure(line, id, problem);
      attributes[name] = value;
    }
    return { type: 'row', line, update: { key, attributes } };
  }
}

/** A line whose cells are all empty or whitespace (as spreadsheets write below the data) is skipped. */
function isBlank(cells: string[]): boolean {
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell !== '' && cell.trim() !== '') return false;
  }
  return true;
}

function failure(line: number, id: string, message: string): RowFailure {
  return { type: 'failure', line, id, message };
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
