import { isUtf8 } from 'node:buffer';
import { BatchRejectedError, PayloadTooLargeError, ProfilegateError } from '../errors';
import type { BatchLimits } from './types';

const EMPTY = Buffer.alloc(0);
const NEWLINE = 10;
const PERCENT = 0x25;
const PLUS = 0x2b;
const AMPERSAND = 0x26;
const MIB = 1024 * 1024;

/** A chunk of the body as bytes (strings are UTF-8 encoded). */
export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new BatchRejectedError('The batch body could not be read');
}

/** `50 MB`, `64 KB` or `100 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
}

/** `500,000`. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** The 413 of a body over `limits.maxBytes`. */
export function bodyTooLarge(limits: BatchLimits): PayloadTooLargeError {
  return new PayloadTooLargeError(`Batch body is over ${formatBytes(limits.maxBytes)}`);
}

/** The 413 of a batch with more than `limits.maxRows` data rows. */
export function tooManyRows(limits: BatchLimits): PayloadTooLargeError {
  return new PayloadTooLargeError(`Batch has more than ${formatCount(limits.maxRows)} rows`);
}

/** The 400 of a batch without data rows (API.md 2.1). */
export function batchIsEmpty(): BatchRejectedError {
  return new BatchRejectedError('Batch is empty');
}

/** Profilegate errors pass through; anything else (a failing source, a bug) becomes a 400 without details. */
export function asTypedError(error: unknown): ProfilegateError {
  if (error instanceof ProfilegateError) return error;
  return new BatchRejectedError('The batch body could not be read');
}

/** Number of `\n` bytes in `buf`. */
export function countNewlineBytes(buf: Buffer): number {
  let count = 0;
  let at = buf.indexOf(NEWLINE);
  while (at !== -1) {
    count++;
    at = buf.indexOf(NEWLINE, at + 1);
  }
  return count;
}

/** Number of `\n` characters in `text`. */
export function countNewlines(text: string): number {
  let count = 0;
  let at = text.indexOf('\n');
  while (at !== -1) {
    count++;
    at = text.indexOf('\n', at + 1);
  }
  return count;
}

/**
 * Decodes one header or cell of a form body: `+` is a space and `%XX` are UTF-8 bytes. Refuses
 * (whole batch) an unencoded `&`, a `%` without two hex digits and percent-encoding that is not
 * UTF-8. Cells without `%` or `+` are returned as they are.
 */
export function decodeFormCell(raw: string, line: number): string {
  if (!hasFormSpecial(raw)) return raw;
  if (raw.indexOf('&') !== -1) {
    throw new BatchRejectedError('Unencoded "&" in a form body; encode it as %26', line);
  }
  const plus = raw.indexOf('+') !== -1;
  if (raw.indexOf('%') === -1) return plus ? raw.replaceAll('+', ' ') : raw;
  const text = plus ? raw.replaceAll('+', ' ') : raw;
  try {
    return decodeURIComponent(text);
  } catch {
    throw percentProblem(text, line);
  }
}

/** Whether `raw` holds a `%`, `+` or `&`: one pass over a cell, where most cells have none of them. */
function hasFormSpecial(raw: string): boolean {
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === PERCENT || code === PLUS || code === AMPERSAND) return true;
  }
  return false;
}

function percentProblem(text: string, line: number): BatchRejectedError {
  for (let at = text.indexOf('%'); at !== -1; at = text.indexOf('%', at + 1)) {
    if (!isHex(text.charCodeAt(at + 1)) || !isHex(text.charCodeAt(at + 2))) {
      return new BatchRejectedError(
        `"%" not followed by two hex digits in a form body ("${text.slice(at, at + 3)}"); encode a literal "%" as %25`,
        line,
      );
    }
  }
  return new BatchRejectedError(
    'Percent-encoding that is not valid UTF-8 in a form body; URL-encode the text as UTF-8 (é is %C3%A9)',
    line,
  );
}

function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

/** What Utf8Guard lets through of a chunk. */
export interface Utf8Checked {
  /** Bytes checked to be UTF-8, up to the first bad byte; to be passed on. */
  valid: Buffer;
  /** 1-based line of the first bad byte, or null when there is none so far. */
  badLine: number | null;
}

/**
 * Checks that a body arriving in chunks is UTF-8, whatever the chunk boundaries, and tells the
 * line of the first bad byte. A sequence cut at the end of a chunk (at most 3 bytes) is held back
 * until the next chunk, so that nothing after a bad byte is ever passed on.
 */
export class Utf8Guard {
  private carry: Buffer = EMPTY;
  /** Line at the start of the bytes not yet passed on. */
  private line = 1;

  check(chunk: Buffer): Utf8Checked {
    const data = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const end = completeLength(data);
    const whole = data.subarray(0, end);
    if (!isUtf8(whole)) {
      const bad = firstInvalidByte(whole);
      const valid = whole.subarray(0, bad);
      return { valid, badLine: this.line + countNewlineBytes(valid) };
    }
    this.line += countNewlineBytes(whole);
    this.carry = end === data.length ? EMPTY : Buffer.from(data.subarray(end));
    return { valid: whole, badLine: null };
  }

  /** At the end of the body: the line of a sequence cut short, or null. */
  finish(): number | null {
    return this.carry.length === 0 ? null : this.line;
  }
}

/** Offset of the first byte of `data` that does not start a valid UTF-8 sequence (the length when all are valid). */
function firstInvalidByte(data: Buffer): number {
  const length = data.length;
  let at = 0;
  while (at < length) {
    const byte = data[at];
    if (byte < 0x80) {
      at++;
      continue;
    }
    const size =
      byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
    if (size === 0 || at + size > length || !isUtf8(data.subarray(at, at + size))) return at;
    at += size;
  }
  return length;
}

/** Length of `data` without a multi-byte sequence cut at its end. */
function completeLength(data: Buffer): number {
  const length = data.length;
  for (let at = length - 1; at >= 0 && at >= length - 4; at--) {
    const byte = data[at];
    if (byte < 0x80) return length;
    if (byte >= 0xc0) {
      const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return length - at < need ? at : length;
    }
  }
  return length;
}

/** The 400 of a body that is not UTF-8. */
export function notUtf8(line?: number): BatchRejectedError {
  return new BatchRejectedError('The body is not valid UTF-8 text; save the file as UTF-8', line);
}
