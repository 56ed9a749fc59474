import { BATCH_SHAPE_LIMITS } from './batch/bounds';
import { ProfilegateError, ValidationError } from './errors';
import { shownName } from './profiles/rules';
import type { Profile } from './profiles/types';
import type { Store } from './store/types';

/**
 * The export of every profile of a client (API.md 5): the query, the CSV that a `text/csv` v2
 * batch reads back into the same attributes, and the pages to write. The HTTP streaming is the
 * middleware's; memory stays at one page of profiles plus the client's attribute names.
 */

export type ExportFormat = 'ndjson' | 'csv';
export type ExportKey = 'pcId' | 'thirdPartyId';

/** What `?format=` and `?key=` ask for. */
export interface ExportRequest {
  format: ExportFormat;
  key: ExportKey;
}

/**
 * Reads `?format=` (required: `ndjson` or `csv`) and `?key=` (`pcId`, the default, or
 * `thirdPartyId`); anything else is a 400 naming what to send.
 */
export function parseExportRequest(format: string | undefined, key: string | undefined): ExportRequest {
  if (format !== 'ndjson' && format !== 'csv') {
    const given = format === undefined ? 'no format' : `format ${JSON.stringify(shownName(format))}`;
    throw new ValidationError(`Give the format: ?format=ndjson or ?format=csv (got ${given})`);
  }
  if (key !== undefined && key !== 'pcId' && key !== 'thirdPartyId') {
    throw new ValidationError(`key must be pcId or thirdPartyId, not ${JSON.stringify(shownName(key))}`);
  }
  return { format, key: key ?? 'pcId' };
}

/** Why a cell needs quotes: RFC 4180's comma, quote and line breaks, and spaces or tabs at either end. */
const NEEDS_QUOTES = /[",\r\n]|^[ \t]|[ \t]$/;

/** One CSV cell (RFC 4180): quoted, with `"` doubled, when it needs to be; as it is otherwise. */
export function csvCell(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * A header cell the batch parser reads back as `name`: it trims spaces and tabs off header cells
 * and strips one `profile.` prefix, so a name starting with `profile.` or a space is written
 * with `profile.` in front (`profile. a` reads back as ` a`).
 */
export function csvHeaderName(name: string): string {
  return csvCell(name.startsWith('profile.') || name.startsWith(' ') ? `profile.${name}` : name);
}

/** The most attribute columns one CSV batch header carries (the id column takes one). */
export const MAX_CSV_ATTRIBUTES = BATCH_SHAPE_LIMITS.maxHeaderColumns - 1;

/**
 * Why a CSV export could not be read back by a batch, or null when it can: a name ending with a
 * space (the parser trims header cells, as Adobe's sample header `pcId, param1` needs), or more
 * attribute names than one batch header takes. NDJSON carries every name.
 */
export function csvExportProblem(names: readonly string[]): string | null {
  const trailing = names.find((name) => / $/.test(name));
  if (trailing !== undefined) {
    return `Attribute "${shownName(trailing)}" ends with a space, which a CSV batch header cannot carry (header cells are trimmed); export as ndjson`;
  }
  if (names.length > MAX_CSV_ATTRIBUTES) {
    return `The client has more than ${MAX_CSV_ATTRIBUTES} attribute names; a CSV batch header takes at most ${MAX_CSV_ATTRIBUTES}; export as ndjson`;
  }
  return null;
}

/** The 409 of a CSV export that a batch could not read back. */
export class ExportNotPossibleError extends ProfilegateError {
  constructor(message: string) {
    super(409, 'ExportNotPossible', message);
  }
}

/** The CSV header line: the key column, then every attribute name. */
export function csvHeader(key: ExportKey, names: readonly string[]): string {
  let line = key;
  for (const name of names) line += `,${csvHeaderName(name)}`;
  return `${line}\r\n`;
}

/** One CSV line: the profile's key, then its value of each name (empty where it has none). */
export function csvRow(profile: Profile, key: ExportKey, names: readonly string[]): string {
  let line = csvCell(key === 'pcId' ? profile.pcId : (profile.thirdPartyId ?? ''));
  for (const name of names) {
    const attribute = Object.hasOwn(profile.attributes, name) ? profile.attributes[name] : undefined;
    line += `,${attribute === undefined ? '' : csvCell(attribute.value)}`;
  }
  return `${line}\r\n`;
}

/** Profiles per page read for an export. */
const PAGE_SIZE = 500;

/**
 * The exported profiles, a page at a time: with `key` `thirdPartyId` only those that have one.
 * Stops reading when `signal` is aborted (the client went away).
 */
export async function* exportPages(
  store: Store,
  client: string,
  key: ExportKey,
  signal?: AbortSignal,
): AsyncGenerator<Profile[]> {
  for await (const page of store.exportProfiles(client, PAGE_SIZE)) {
    if (signal?.aborted) return;
    const kept = key === 'pcId' ? page : page.filter((p) => p.thirdPartyId !== undefined);
    if (kept.length > 0) yield kept;
  }
}

/**
 * Every attribute name of the exported profiles, sorted (by code unit): a first pass over the
 * pages, holding only the names. A name first written after this pass is not in the CSV header
 * (the export is not a snapshot; NDJSON has no header and carries it). Stops reading as soon as
 * it holds more names than a CSV header takes (the export is refused then): a client whose
 * profiles each have their own names would otherwise hold every name in memory.
 */
export async function exportAttributeNames(
  store: Store,
  client: string,
  key: ExportKey,
  signal?: AbortSignal,
): Promise<string[]> {
  const names = new Set<string>();
  for await (const page of exportPages(store, client, key, signal)) {
    for (const profile of page) {
      for (const name of Object.keys(profile.attributes)) names.add(name);
      if (names.size > MAX_CSV_ATTRIBUTES) return [...names].sort();
    }
  }
  return [...names].sort();
}
