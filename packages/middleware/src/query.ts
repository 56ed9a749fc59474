import { ValidationError } from '@profilegate/core';
import type { Request } from 'express';

/** The raw query string of a request (after `?`), without decoding. */
export function rawQuery(req: Request): string {
  const at = req.originalUrl.indexOf('?');
  return at === -1 ? '' : req.originalUrl.slice(at + 1);
}

/**
 * Parameters as a name → value map, refusing repeated names (which would be ambiguous).
 * Parsed from the raw text so Express's query-parser setting cannot change the meaning.
 */
export function uniqueParams(...sources: string[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const source of sources) {
    for (const [name, value] of new URLSearchParams(source)) {
      if (params.has(name)) throw new ValidationError(`Parameter "${name}" is given more than once`);
      params.set(name, value);
    }
  }
  return params;
}

/** One optional query parameter as a string (the last one if repeated). */
export function queryParam(req: Request, name: string): string | undefined {
  const values = new URLSearchParams(rawQuery(req)).getAll(name);
  return values.length > 0 ? values[values.length - 1] : undefined;
}
