/**
 * A batch as data (id column, attribute names, rows of cells), written in each body form of
 * API.md 2.1, and the model of what applying it must leave in the store. The fuzz and
 * concurrency sections both send batches built here.
 */
import { normalizeAttributeName } from '@profilegate/core';

/** The body forms of API.md 2.1 (multipart holding either text form). */
export const FORMS = ['form', 'csv', 'multipart-form', 'multipart-csv', 'json'] as const;
export type Form = (typeof FORMS)[number];

export interface BatchSpec {
  kind: 'thirdPartyId' | 'pcId';
  /** Attribute names as written in the header (a `profile.` prefix is allowed). */
  names: string[];
  /** Each row: the id, then at most one cell per name (rows may end early). */
  rows: Array<{ id: string; cells: string[] }>;
}

/** How a text body is spelled: line ends, `+` for spaces, quoting every CSV cell, the multipart field. */
export interface Spelling {
  crlf: boolean;
  plus: boolean;
  quoteAll: boolean;
  field: 'batch' | 'file';
}

export const PLAIN: Spelling = { crlf: false, plus: false, quoteAll: false, field: 'batch' };

const BOUNDARY = 'profilegate-reliability-7f3a9c';

function formCell(text: string, plus: boolean): string {
  const encoded = encodeURIComponent(text);
  return plus ? encoded.replace(/%20/g, '+') : encoded;
}

function csvCell(text: string, quoteAll: boolean): string {
  return quoteAll || /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function lines(spec: BatchSpec, cell: (text: string) => string, spelling: Spelling): string {
  const eol = spelling.crlf ? '\r\n' : '\n';
  const header = [spec.kind, ...spec.names].map(cell).join(',');
  const rows = spec.rows.map((row) => [row.id, ...row.cells].map(cell).join(','));
  return [header, ...rows].join(eol) + eol;
}

/** The body and Content-Type of `spec` in `form`. */
export function encodeBatch(spec: BatchSpec, form: Form, spelling: Spelling = PLAIN): { body: Buffer; type: string } {
  const formText = () => `batch=${lines(spec, (t) => formCell(t, spelling.plus), spelling)}`;
  const csvText = () => lines(spec, (t) => csvCell(t, spelling.quoteAll), spelling);
  switch (form) {
    case 'form':
      return { body: Buffer.from(formText(), 'utf8'), type: 'application/x-www-form-urlencoded' };
    case 'csv':
      return { body: Buffer.from(csvText(), 'utf8'), type: 'text/csv' };
    case 'multipart-form':
    case 'multipart-csv': {
      const content = form === 'multipart-form' ? formText() : csvText();
      const part =
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${spelling.field}"; filename="batch.csv"\r\n` +
        `Content-Type: text/plain\r\n\r\n${content}\r\n--${BOUNDARY}--\r\n`;
      return { body: Buffer.from(part, 'utf8'), type: `multipart/form-data; boundary=${BOUNDARY}` };
    }
    case 'json': {
      const profiles = spec.rows.map((row) => {
        const attributes: Record<string, string> = {};
        row.cells.forEach((value, i) => Object.defineProperty(attributes, spec.names[i]!, { value, enumerable: true }));
        return { [spec.kind]: row.id, attributes };
      });
      return { body: Buffer.from(JSON.stringify({ profiles }), 'utf8'), type: 'application/json' };
    }
  }
}

/** Stored attributes per profile, keyed `kind:id`. */
export type Model = Map<string, Record<string, string>>;

/** What a v2 batch of valid rows does: creates missing profiles, merges non-empty cells, later rows win. */
export function applyToModel(model: Model, spec: BatchSpec): void {
  for (const row of spec.rows) {
    const key = `${spec.kind}:${row.id}`;
    const attributes = model.get(key) ?? {};
    row.cells.forEach((value, i) => {
      if (value !== '') attributes[normalizeAttributeName(spec.names[i]!)] = value;
    });
    model.set(key, attributes);
  }
}

/** Path of the fetch route for a model key. */
export function fetchPath(key: string, client: string): string {
  const [kind, ...rest] = key.split(':');
  const id = encodeURIComponent(rest.join(':'));
  return kind === 'pcId'
    ? `/rest/v1/profiles/${id}?client=${client}`
    : `/rest/v1/profiles/thirdPartyId/${id}?client=${client}`;
}

/** name → value of a fetched profile body. */
export function valuesOf(body: { profileAttributes: Record<string, { value: string }> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(body.profileAttributes)) out[name] = attribute.value;
  return out;
}
