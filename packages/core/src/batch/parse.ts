import { BatchRejectedError } from '../errors';
import { parseDelimited } from './delimited';
import { parseJson } from './json';
import {
  DEFAULT_BATCH_LIMITS,
  type BatchFormat,
  type BatchLimits,
  type ParseBatchOptions,
  type ParsedRow,
  type RowFailure,
} from './types';

export { DEFAULT_BATCH_LIMITS };
export type { BatchFormat, BatchLimits, ParseBatchOptions, ParsedRow, RowFailure };

/**
 * Parses a batch body (API.md 2.1) as a stream, yielding valid rows and row-level failures in
 * body order. `source` may be a Node Readable (an HTTP request) or any async iterable of chunks.
 *
 * Throws only BatchRejectedError (400: the whole batch is refused, with the line when there is
 * one) and PayloadTooLargeError (413: over `maxBytes` or `maxRows`). A whole-batch error can come
 * after rows were yielded: the caller must keep nothing of a batch until the generator is done.
 */
export async function* parseBatch(
  source: AsyncIterable<Buffer | string>,
  options: ParseBatchOptions,
): AsyncGenerator<ParsedRow | RowFailure> {
  for await (const items of parseBatchSlices(source, options)) {
    for (const item of items) yield item;
  }
}

/**
 * parseBatch's items, an array for each slice of the body (each non-empty): for a caller that
 * handles hundreds of thousands of rows, one await per slice instead of one per row.
 */
export function parseBatchSlices(
  source: AsyncIterable<Buffer | string>,
  options: ParseBatchOptions,
): AsyncGenerator<Array<ParsedRow | RowFailure>> {
  const limits = resolveLimits(options.limits);
  switch (options.format) {
    case 'form':
      return parseDelimited(source, true, limits);
    case 'csv':
      return parseDelimited(source, false, limits);
    case 'json':
      return parseJson(source, limits);
    default:
      return refuse(new BatchRejectedError(`Unsupported batch format "${String(options.format)}"`));
  }
}

function resolveLimits(limits: Partial<BatchLimits> | undefined): BatchLimits {
  return {
    maxBytes: limits?.maxBytes ?? DEFAULT_BATCH_LIMITS.maxBytes,
    maxRows: limits?.maxRows ?? DEFAULT_BATCH_LIMITS.maxRows,
  };
}

// eslint-disable-next-line require-yield
async function* refuse(error: Error): AsyncGenerator<never> {
  throw error;
}
