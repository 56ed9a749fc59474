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

/** Encoded rows (one encodeBatchRow text each) back to rows, with one JSON.parse for all of them. */
export function decodeBatchRows(lines: readonly string[]): BatchRow[] {
  const rows = JSON.parse(`[${lines.join(',')}]`) as Array<[0 | 1, string, Record<string, string>, string[]?]>;
  return rows.map(([kind, id, attributes, remove]) => {
    const key: BatchKey = { kind: kind === 0 ? 'pcId' : 'thirdPartyId', id };
    return remove === undefined ? { key, attributes } : { key, attributes, remove };
  });
}

/** What scanBatchRow reads of an encoded row without decoding its attributes. */
export interface ScannedBatchRow {
  key: BatchKey;
  /** The attributes' JSON text (`JSON.stringify(row.attributes)`); null when the row removes names. */
  attributes: string | null;
}

/**
 * The key of an encodeBatchRow text, and its attributes still as JSON text, without JSON.parse:
 * a row that creates a profile is stored from that text as it is (sqlite-stage.ts). Reads only
 * what encodeBatchRow writes (`[0,` or `[1,`, the id as a JSON string, then the attributes
 * object, then a list of names to remove when there is one); anything else is an error.
 */
export function scanBatchRow(line: string): ScannedBatchRow {
  const kind = line.charCodeAt(1);
  if (line.charCodeAt(0) !== 0x5b || (kind !== 0x30 && kind !== 0x31) || line.charCodeAt(2) !== 0x2c)
    throw new Error('Not an encoded batch row');
  // The id's closing quote: the first quote after index 3 that no backslash escapes.
  let escaped = false;
  let end = 4;
  for (; end < line.length; end++) {
    const c = line.charCodeAt(end);
    if (c === 0x5c) {
      escaped = true;
      end++;
    } else if (c === 0x22) break;
  }
  if (line.charCodeAt(3) !== 0x22 || end >= line.length || line.charCodeAt(end + 1) !== 0x2c)
    throw new Error('Not an encoded batch row');
  const id = escaped ? (JSON.parse(line.slice(3, end + 1)) as string) : line.slice(4, end);
  const key: BatchKey = { kind: kind === 0x30 ? 'pcId' : 'thirdPartyId', id };
  // Without a list of names to remove, the row ends with its attributes object: `}]`. With one,
  // it ends with the list (`"]]`; an empty list is never written).
  const attributes = line.endsWith('}]') ? line.slice(end + 2, -1) : null;
  return { key, attributes };
}
