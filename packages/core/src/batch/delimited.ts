import { batchFormPrefix } from '@profilegate/client';
import { CsvError, parse, type Parser } from 'csv-parse';
import { BatchRejectedError } from '../errors';
import { BATCH_SHAPE_LIMITS, SLICE_BYTES, yieldToEventLoop } from './bounds';
import { FormRecords } from './form-records';
import { RowReader } from './row-reader';
import { asTypedError, batchIsEmpty, bodyTooLarge, notUtf8, toBuffer, Utf8Guard } from './text';
import type { BatchLimits, ParsedRow, RowFailure } from './types';

type Item = ParsedRow | RowFailure;

/**
 * Parses a CSV batch body (`form`: Adobe's URL-encoded batch file after `batch=`; otherwise
 * RFC 4180 CSV) as a stream: the source goes through csv-parse (or the form splitter) in slices of
 * 64 KB, the rows of each slice are yielded together, and the event loop gets a turn, before the
 * next slice. No line is held past BATCH_SHAPE_LIMITS (cells and characters): it is refused while
 * it arrives.
 */
export async function* parseDelimited(
  source: AsyncIterable<Buffer | string>,
  form: boolean,
  limits: BatchLimits,
): AsyncGenerator<Item[]> {
  const out: Item[] = [];
  const reader = new RowReader(form, limits, out);
  // A form has no quoting: split by hand. CSV goes through csv-parse.
  const split = form ? new FormRecords(reader) : null;
  const parser = parse({
    bom: false, // stripped here, before `batch=`
    quote: form ? false : '"',
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    // Blank lines come through as records (skipped by the reader), so that every line is counted.
    skip_empty_lines: false,
    // Characters of the cells of one record (csv-parse counts them while the record is read).
    max_record_size: BATCH_SHAPE_LIMITS.maxRecordChars,
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
      for (let at = 0; at < valid.length; at += SLICE_BYTES) {
        if (split) split.push(valid.subarray(at, at + SLICE_BYTES));
        else await feed(parser, reader, valid.subarray(at, at + SLICE_BYTES));
        if (out.length > 0) yield out.splice(0);
        await yieldToEventLoop();
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
    if (out.length > 0) yield out.splice(0);
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
  // csv-parse bounds the characters of a record, not its cells: a line of commas is stopped here,
  // one slice (at most 64 KB of cells) past the limit.
  if (cellsPending(parser) > reader.maxCells()) throw reader.tooWide();
}

/** Cells of the record csv-parse is in the middle of (its `state` is public, though not in its types). */
function cellsPending(parser: Parser): number {
  const state = (parser as unknown as { state?: { record?: unknown[] } }).state;
  return state?.record?.length ?? 0;
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
  const prefix = batchFormPrefix(head, atEnd);
  if (prefix === undefined) return undefined;
  if (!form) return head.subarray(prefix.bomBytes);
  if (prefix.form) return head.subarray(prefix.contentStart);
  if (head.length === prefix.bomBytes) return head.subarray(prefix.bomBytes); // an empty body: "Batch is empty"
  throw new BatchRejectedError(
    'A form body must start with "batch=" followed by the lines of the batch file (send the file with curl --data-binary @file)',
    1,
  );
}

function csvProblem(error: CsvError, reader: RowReader): Error {
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
    case 'CSV_MAX_RECORD_SIZE':
      return reader.tooLong();
    default:
      return new BatchRejectedError('The CSV could not be read; check the quoting of this line', line);
  }
}
