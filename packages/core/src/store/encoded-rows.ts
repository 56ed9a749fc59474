import type { BatchKey } from '../profiles/types';
import type { BatchRow } from './types';

/**
 * The text form of batch rows, as the batch spool writes them (batch/spool.ts) and as they are
 * handed to the SQLite batch worker: one JSON array a row, `[kind, id, attributes]` (kind 0 for a
 * pcId, 1 for a thirdPartyId) with the names to remove as a fourth element when there are any.
 * A row's text has no raw line break, so rows are kept one a line.
 */
export function encodeBatchRow(row: BatchRow): string {
  const kind = row.key.kind === 'pcId' ? 0 : 1;
  return JSON.stringify(
    row.remove && row.remove.length > 0
      ? [kind, row.key.id, row.attributes, row.remove]
      : [kind, row.key.id, row.attributes],
  );
}

/** Encoded rows joined by commas (`text`) back to rows, with one JSON.parse for all of them. */
export function decodeBatchRows(text: string): BatchRow[] {
  const rows = JSON.parse(`[${text}]`) as Array<[0 | 1, string, Record<string, string>, string[]?]>;
  return rows.map(([kind, id, attributes, remove]) => {
    const key: BatchKey = { kind: kind === 0 ? 'pcId' : 'thirdPartyId', id };
    return remove === undefined ? { key, attributes } : { key, attributes, remove };
  });
}
