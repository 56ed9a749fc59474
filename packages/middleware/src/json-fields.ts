import { ValidationError } from '@profilegate/core';
import type { NextFunction, Request, Response } from 'express';

/**
 * The first name given twice among the fields of a JSON text's top-level object (compared once
 * unescaped, so `"a"` and `"\u0061"` are the same), or null. It runs before the body is parsed: a text
 * that is not JSON ends the scan (null), never loops.
 * JSON.parse keeps the last of two, so `{"requireAuthentication":true,"requireAuthentication":false}`
 * would silently mean false.
 */
export function repeatedTopLevelField(text: string): string | null {
  let depth = 0;
  let inObject = false;
  let expectName = false;
  const seen = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (end >= text.length) return null; // not JSON: express.json answers that
      if (depth === 1 && inObject && expectName) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (seen.has(name)) return name;
        seen.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1) {
        inObject = c === '{';
        expectName = inObject;
      }
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectName = inObject;
    }
  }
  return null;
}

const repeated = new WeakMap<object, string>();

/** express.json's `verify`: notes a field given twice in the body (checked by `noRepeatedFields`). */
export function noteRepeatedFields(req: object, _res: unknown, body: Buffer, encoding: string): void {
  if (body.length === 0 || !/^utf-?8$/i.test(encoding)) return;
  try {
    const name = repeatedTopLevelField(body.toString('utf8'));
    if (name !== null) repeated.set(req, name);
  } catch {
    // Not JSON: express.json answers that.
  }
}

/** 400 for a JSON body that gives a field twice (after express.json with `noteRepeatedFields`). */
export function noRepeatedFields(req: Request, _res: Response, next: NextFunction): void {
  const name = repeated.get(req);
  if (name !== undefined) {
    throw new ValidationError(`"${name.slice(0, 40)}" is given more than once; give each field once`);
  }
  next();
}
