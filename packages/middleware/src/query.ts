import { ValidationError } from '@profilegate/core';
import type { Request } from 'express';

/** The raw query string of a request (after `?`), without decoding. */
export function rawQuery(req: Request): string {
  const at = req.originalUrl.indexOf('?');
  return at === -1 ? '' : req.originalUrl.slice(at + 1);
}

/**
 * The `name=value` pairs of a query string or form body, read as URLSearchParams reads them (`+`
 * is a space; a `%` not followed by two hex digits is kept as it is, since clients such as
 * Segment's destination do not encode their values), except that percent-encoded bytes must be
 * UTF-8: URLSearchParams would turn `%FF` or a lone surrogate (`%ED%A0%80`) into U+FFFD, and the
 * text rule (API.md 2.1) refuses them. A pair that breaks it is `undefined` in the list.
 */
export function formPairs(text: string): Array<[string, string] | undefined> {
  const pairs: Array<[string, string] | undefined> = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const at = part.indexOf('=');
    const name = decodeFormText(at === -1 ? part : part.slice(0, at));
    const value = decodeFormText(at === -1 ? '' : part.slice(at + 1));
    pairs.push(name === undefined || value === undefined ? undefined : [name, value]);
  }
  return pairs;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

/** One form-encoded name or value as text; undefined when its percent-encoded bytes are not UTF-8. */
function decodeFormText(raw: string): string | undefined {
  const text = raw.replaceAll('+', ' ');
  if (!text.includes('%')) return text;
  try {
    return STRICT_UTF8.decode(percentDecodedBytes(text));
  } catch {
    return undefined;
  }
}

/** The UTF-8 bytes of `text`, each `%XX` taken as the byte XX (a "%" without two hex digits stays). */
function percentDecodedBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let plain = 0;
  for (let i = text.indexOf('%'); i !== -1; i = text.indexOf('%', i + 1)) {
    if (!HEX_PAIR.test(text.slice(i + 1, i + 3))) continue;
    parts.push(Buffer.from(text.slice(plain, i), 'utf8'), Buffer.of(parseInt(text.slice(i + 1, i + 3), 16)));
    plain = i + 3;
    i += 2;
  }
  parts.push(Buffer.from(text.slice(plain), 'utf8'));
  return Buffer.concat(parts);
}

/** The 400 of a parameter whose percent-encoding is not UTF-8. */
function notUtf8(): ValidationError {
  return new ValidationError(
    'A parameter is not valid UTF-8 once percent-decoded (a lone surrogate or a byte such as %FF); encode text as UTF-8',
  );
}

/**
 * Parameters as a name → value map, refusing repeated names (which would be ambiguous) and
 * percent-encoding that is not UTF-8, except that the parameter `repeatable` may be given any
 * number of times (in the query, the body or both): its values are `list`, in order, and are not
 * in `params`. Parsed from the raw text so Express's query-parser setting cannot change the meaning.
 */
export function paramsAndList(
  repeatable: string,
  sources: readonly string[],
): { params: Map<string, string>; list: string[] } {
  const params = new Map<string, string>();
  const list: string[] = [];
  for (const source of sources) {
    for (const pair of formPairs(source)) {
      if (pair === undefined) throw notUtf8();
      const [name, value] = pair;
      if (name === repeatable) {
        list.push(value);
        continue;
      }
      if (params.has(name)) throw new ValidationError(`Parameter "${name}" is given more than once`);
      params.set(name, value);
    }
  }
  return { params, list };
}

/** Each request's query pairs, decoded once however many parameters its routes read. */
const decodedQueries = new WeakMap<Request, { raw: string; pairs: Array<[string, string] | undefined> }>();

/** Every value of one query parameter, in order (400 when one is not UTF-8). */
export function queryParams(req: Request, name: string): string[] {
  const raw = rawQuery(req);
  let decoded = decodedQueries.get(req);
  if (decoded === undefined || decoded.raw !== raw) {
    decoded = { raw, pairs: formPairs(raw) };
    decodedQueries.set(req, decoded);
  }
  const values: string[] = [];
  for (const pair of decoded.pairs) {
    if (pair === undefined) throw notUtf8();
    if (pair[0] === name) values.push(pair[1]);
  }
  return values;
}

/** One optional query parameter as a string (the last one if repeated). */
export function queryParam(req: Request, name: string): string | undefined {
  const values = queryParams(req, name);
  return values.length > 0 ? values[values.length - 1] : undefined;
}
