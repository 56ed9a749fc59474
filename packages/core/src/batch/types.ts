import type { BatchKey, ProfileUpdate } from '../profiles/types';

/** How a batch body is written (API.md 2.1). */
export type BatchFormat = 'form' | 'csv' | 'json';

/** Size limits of one batch body. */
export interface BatchLimits {
  /** Raw bytes of the body, counted as they arrive. */
  maxBytes: number;
  /** Data rows (CSV rows after the header, or JSON `profiles` elements). */
  maxRows: number;
}

/** The limits of API.md 2.1: 50 MB and 500,000 data rows. */
export const DEFAULT_BATCH_LIMITS: BatchLimits = Object.freeze({ maxBytes: 50 * 1024 * 1024, maxRows: 500_000 });

/** A valid row. `update.attributes` holds no empty values (an empty cell never clears an attribute). */
export interface ParsedRow {
  type: 'row';
  /** 1-based physical line of the row in the body (the header, or the `batch=` line, is line 1); for JSON, the 1-based index in `profiles`. */
  line: number;
  update: ProfileUpdate<BatchKey>;
}

/** A row refused on its own; the other rows of the batch are still applied. */
export interface RowFailure {
  type: 'failure';
  /** As in ParsedRow. */
  line: number;
  /** The row's id as sent (may be ''). */
  id: string;
  message: string;
}

/** Options of parseBatch. */
export interface ParseBatchOptions {
  format: BatchFormat;
  /** Overrides of DEFAULT_BATCH_LIMITS. */
  limits?: Partial<BatchLimits>;
}
