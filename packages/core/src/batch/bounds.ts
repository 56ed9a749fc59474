import { setImmediate as nextTurn } from 'node:timers/promises';
import { BatchRejectedError, PayloadTooLargeError } from '../errors';
import { formatBytes, formatCount } from './text';

/**
 * Shapes a batch body may not exceed, checked while it is parsed so that no hostile body (one
 * endless line, one endless JSON element) is ever held whole in memory.
 */
export const BATCH_SHAPE_LIMITS = Object.freeze({
  /** Columns of a CSV header, the id column included. */
  maxHeaderColumns: 1024,
  /** Cells a data row may have beyond its header's columns (each such row fails on its own; past this, the batch). */
  extraCells: 16,
  /** Characters of one cell as read (after URL-decoding): the 5,000-character value limit and room to say so. */
  maxCellChars: 8 * 1024,
  /** Characters of one CSV line as sent, or bytes of one JSON element of "profiles". */
  maxRecordChars: 1024 * 1024,
});

/** Bytes parsed between two turns of the event loop, so other requests are answered during a large body. */
export const SLICE_BYTES = 64 * 1024;

/** Lets timers and I/O run before parsing goes on. */
export function yieldToEventLoop(): Promise<void> {
  return nextTurn();
}

/** The most cells a data row may have under a header of `columns` columns. */
export function maxRowCells(columns: number): number {
  return columns + BATCH_SHAPE_LIMITS.extraCells;
}

/** The 400 of a header with too many columns. */
export function headerTooWide(line: number): BatchRejectedError {
  return new BatchRejectedError(
    `The header has more than ${formatCount(BATCH_SHAPE_LIMITS.maxHeaderColumns)} columns; split the attributes over several batches`,
    line,
  );
}

/** The 400 of a data row far wider than its header. */
export function rowTooWide(columns: number, line: number): BatchRejectedError {
  return new BatchRejectedError(
    `Row has more than ${formatCount(maxRowCells(columns))} cells; the header has ${formatCount(columns)} columns. Check the commas of this line`,
    line,
  );
}

/** The 413 of one cell over `maxCellChars`. */
export function cellTooLarge(line: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `Line ${line}: A cell is over ${formatCount(BATCH_SHAPE_LIMITS.maxCellChars)} characters; a value may have at most 5,000`,
  );
}

/** The 413 of one CSV line over `maxRecordChars`. */
export function lineTooLarge(line: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `Line ${line}: The line is over ${formatBytes(BATCH_SHAPE_LIMITS.maxRecordChars)}; a profile holds at most 64 KB of attributes. Check the line breaks and quotes`,
  );
}

/** The 413 of one JSON element of "profiles" over `maxRecordChars` bytes. */
export function profileTooLarge(index: number): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `Profile ${formatCount(index)} of "profiles" is over ${formatBytes(BATCH_SHAPE_LIMITS.maxRecordChars)}; a profile holds at most 64 KB of attributes`,
  );
}

/** The 413 of a JSON body with more than `maxRecordChars` bytes in one stretch outside "profiles". */
export function outsideTooLarge(): PayloadTooLargeError {
  return new PayloadTooLargeError(
    `The JSON body has over ${formatBytes(BATCH_SHAPE_LIMITS.maxRecordChars)} outside the elements of "profiles"; send only {"profiles":[…]}`,
  );
}
