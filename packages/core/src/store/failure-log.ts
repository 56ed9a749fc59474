import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { storableText } from '../storable-text';
import { MAX_REPORTED_FAILURES, type BatchFailure, type NewBatch } from './types';

/**
 * What a store keeps of a batch's failed rows (issue 15.5): never more bytes than the failing rows
 * took in the body, so failures cost less to keep than to send. Per row: its line (as the distance
 * from the previous one), its reason (an index into the batch's own table of reasons, with the
 * reason's numbers kept apart so "is 5001 characters" and "is 5002 characters" share one entry)
 * and its id, cut off after KEPT_ID_CHARS characters; all of it deflated. The message batchStatus
 * shows (`Line N: reason`) is built when the status is read.
 *
 * The bound: at most `failedRowBytes + FAILURE_LOG_SLACK` bytes (and never more than
 * MAX_FAILURE_LOG_BYTES), where `failedRowBytes` counts for
 * each failed row the UTF-8 bytes of its id, and at least one byte (a failing row holds its id and
 * is never empty). When the rows would take more, only the first ones that fit are listed; the
 * batch's counters still count every failed row.
 */

/** Bytes a batch may keep beyond its failing rows' own: the table of reasons and the format's header. */
export const FAILURE_LOG_SLACK = 256;
/** Most bytes a batch keeps of its failures, however large its failing rows were. */
export const MAX_FAILURE_LOG_BYTES = 128 * 1024;
/** Characters of a failed row's id that are kept; a longer id is cut there and ends with "…". */
export const KEPT_ID_CHARS = 64;
/** Largest decoded failure log accepted (1,000 rows of the longest reasons and ids fit many times over). */
const MAX_DECODED_BYTES = 16 * 1024 * 1024;
const FORMAT_VERSION = 1;
/** Stands for a number in a reason template; reasons are storable text, which never holds NUL. */
const NUMBER_SLOT = '\u0000';
const NUMBER = /\d+/g;
const CANONICAL_NUMBER = /^(?:0|[1-9]\d{0,14})$/;

/** The bytes a failed row with this id took in the body, at least: its id, and never less than one. */
export function failedRowBytes(id: string): number {
  return Math.max(1, Buffer.byteLength(id, 'utf8'));
}

/** `failedRowBytes` of the listed failures, plus one byte for each failed row beyond them. */
export function failedRowBytesOf(failures: readonly BatchFailure[], failedCount: number): number {
  let bytes = Math.max(0, failedCount - failures.length);
  for (const failure of failures) bytes += failedRowBytes(failure.id);
  return bytes;
}

/** A failure as every store keeps it: id cut off, text the stores refuse replaced by U+FFFD. */
export function keptFailure(failure: BatchFailure): BatchFailure {
  const kept: BatchFailure = { id: cutId(storableText(failure.id)), message: storableText(failure.message) };
  if (failure.line !== undefined && failure.line > 0) kept.line = failure.line;
  return kept;
}

/** Encodes the first failures that fit the bound (see above). */
export function encodeFailureLog(failures: readonly BatchFailure[], rowBytes: number): Buffer {
  const budget = Math.min(rowBytes + FAILURE_LOG_SLACK, MAX_FAILURE_LOG_BYTES);
  const parts = encodeParts(failures.slice(0, MAX_REPORTED_FAILURES).map(keptFailure));
  let best = deflateRawSync(assemble(parts, parts.records.length, rowBytes));
  if (best.length <= budget) return best;
  // The longest prefix of rows that fits (the empty one always does).
  let fits = 0;
  let tooMany = parts.records.length;
  best = deflateRawSync(assemble(parts, 0, rowBytes));
  while (tooMany - fits > 1) {
    const middle = Math.floor((fits + tooMany) / 2);
    const blob = deflateRawSync(assemble(parts, middle, rowBytes));
    if (blob.length <= budget) {
      fits = middle;
      best = blob;
    } else {
      tooMany = middle;
    }
  }
  return best;
}

/** The failures as a store keeps them: what reading back `encodeFailureLog` gives. */
export function keptFailures(
  failures: readonly BatchFailure[],
  rowBytes: number,
): { failures: BatchFailure[]; failedRowBytes: number } {
  return decodeFailureLog(encodeFailureLog(failures, rowBytes));
}

/** The failures a new batch starts with (its rows refused while parsing), as a store keeps them. */
export function newBatchFailures(batch: NewBatch): { failures: BatchFailure[]; failedRowBytes: number } {
  return keptFailures(
    batch.parseFailures,
    batch.parseFailedRowBytes ?? failedRowBytesOf(batch.parseFailures, batch.parseFailedCount),
  );
}

/** The failures and `failedRowBytes` of an encoded failure log. */
export function decodeFailureLog(blob: Buffer): { failures: BatchFailure[]; failedRowBytes: number } {
  const reader = new Reader(inflateRawSync(blob, { maxOutputLength: MAX_DECODED_BYTES }));
  const version = reader.varint();
  if (version !== FORMAT_VERSION) throw new Error(`Unknown failure log format ${version}`);
  const rowBytes = reader.varint();
  const templates: string[] = [];
  for (let n = reader.varint(); n > 0; n--) templates.push(reader.text());
  const failures: BatchFailure[] = [];
  let line = 0;
  for (let n = reader.varint(); n > 0; n--) {
    const lineField = reader.varint();
    const template = templates[reader.varint()];
    if (template === undefined) throw new Error('Corrupt failure log: unknown reason');
    const pieces = template.split(NUMBER_SLOT);
    let message = pieces[0]!;
    for (let i = 1; i < pieces.length; i++) message += String(reader.varint()) + pieces[i]!;
    const failure: BatchFailure = { id: reader.text(), message };
    if (lineField > 0) {
      line += unzigzag(lineField - 1);
      failure.line = line;
    }
    failures.push(failure);
  }
  return { failures, failedRowBytes: rowBytes };
}

/**
 * The failures of a batch written before failure logs (a JSON array of `{id, message}`, the line
 * inside the message), with the `failedRowBytes` they stand for.
 */
export function decodeLegacyFailures(
  json: string | unknown[],
  failedCount: number,
): { failures: BatchFailure[]; failedRowBytes: number } {
  const parsed = (typeof json === 'string' ? JSON.parse(json) : json) as Array<{ id: string; message: string }>;
  const failures = parsed.map((f) => ({ id: String(f.id), message: String(f.message) }));
  return { failures, failedRowBytes: failedRowBytesOf(failures, failedCount) };
}

/** The message batchStatus shows for a failed row: `Line N: reason`, or the reason alone. */
export function failureMessage(failure: BatchFailure): string {
  return failure.line !== undefined ? `Line ${failure.line}: ${failure.message}` : failure.message;
}

function cutId(id: string): string {
  if (id.length <= KEPT_ID_CHARS) return id;
  const cut = id.slice(0, KEPT_ID_CHARS);
  const last = cut.charCodeAt(cut.length - 1);
  return `${last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut}…`;
}

interface Parts {
  templates: Buffer[];
  /** Each row's bytes, and how many templates the rows up to it use (indices go by first use). */
  records: Array<{ bytes: Buffer; templatesUsed: number }>;
}

function encodeParts(failures: readonly BatchFailure[]): Parts {
  const index = new Map<string, number>();
  const templates: Buffer[] = [];
  const records: Parts['records'] = [];
  let previousLine = 0;
  for (const failure of failures) {
    const numbers: number[] = [];
    const template = failure.message.replace(NUMBER, (digits) => {
      if (!CANONICAL_NUMBER.test(digits)) return digits;
      numbers.push(Number(digits));
      return NUMBER_SLOT;
    });
    let at = index.get(template);
    if (at === undefined) {
      at = templates.length;
      index.set(template, at);
      templates.push(textBytes(template));
    }
    const writer = new Writer();
    if (failure.line === undefined) {
      writer.varint(0);
    } else {
      writer.varint(zigzag(failure.line - previousLine) + 1);
      previousLine = failure.line;
    }
    writer.varint(at);
    for (const n of numbers) writer.varint(n);
    writer.bytes(textBytes(failure.id));
    records.push({ bytes: writer.done(), templatesUsed: templates.length });
  }
  return { templates, records };
}

function assemble(parts: Parts, rows: number, rowBytes: number): Buffer {
  const writer = new Writer();
  writer.varint(FORMAT_VERSION);
  writer.varint(rowBytes);
  const templates = rows === 0 ? 0 : parts.records[rows - 1]!.templatesUsed;
  writer.varint(templates);
  for (let i = 0; i < templates; i++) writer.bytes(parts.templates[i]!);
  writer.varint(rows);
  const chunks = [writer.done()];
  for (let i = 0; i < rows; i++) chunks.push(parts.records[i]!.bytes);
  return Buffer.concat(chunks);
}

/** UTF-8 bytes of a text, prefixed with their length. */
function textBytes(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const writer = new Writer();
  writer.varint(bytes.length);
  return Buffer.concat([writer.done(), bytes]);
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

/** LEB128 varints of safe integers (arithmetic, not bitwise: numbers may pass 2^32). */
class Writer {
  private readonly out: number[] = [];
  private readonly chunks: Buffer[] = [];

  varint(value: number): void {
    let n = value;
    while (n >= 0x80) {
      this.out.push((n % 0x80) + 0x80);
      n = Math.floor(n / 0x80);
    }
    this.out.push(n);
  }

  bytes(data: Buffer): void {
    this.chunks.push(Buffer.from(this.out.splice(0)), data);
  }

  done(): Buffer {
    return Buffer.concat([...this.chunks, Buffer.from(this.out)]);
  }
}

class Reader {
  private at = 0;

  constructor(private readonly data: Buffer) {}

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.at >= this.data.length) throw new Error('Corrupt failure log: cut short');
      const byte = this.data[this.at++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new Error('Corrupt failure log: number too long');
    }
  }

  text(): string {
    const length = this.varint();
    if (this.at + length > this.data.length) throw new Error('Corrupt failure log: cut short');
    const text = this.data.toString('utf8', this.at, this.at + length);
    this.at += length;
    return text;
  }
}
