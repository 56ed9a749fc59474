/**
 * fast-check inputs of the fuzz section, each with the answer the contract gives it: batch body
 * corruptions, single-update requests and Authorization headers (admin bodies: admin-bodies.ts).
 * The expected answers are computed from API.md's rules, independently of the server's code.
 */
import fc from 'fast-check';

// ---------------------------------------------------------------------------------------------
// Corrupted batch bodies

const NASTY_TEXT = [
  '%',
  '&',
  ',',
  '"',
  '\n',
  '\r',
  '\u0000',
  '=',
  '+',
  'é',
  '\ufeff',
  'batch=',
  '%E0',
  '%zz',
  '{',
  '}',
  '--',
];

type Mutation =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete' | 'duplicate'; at: number; length: number }
  | { op: 'truncate'; at: number }
  | { op: 'byte'; at: number; byte: number };

const at = fc.integer({ min: 0, max: 9999 }).map((n) => n / 10000);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at, text: fc.constantFrom(...NASTY_TEXT) }),
  fc.record({
    op: fc.constantFrom('delete' as const, 'duplicate' as const),
    at,
    length: fc.integer({ min: 1, max: 30 }),
  }),
  fc.record({ op: fc.constant('truncate' as const), at }),
  fc.record({ op: fc.constant('byte' as const), at, byte: fc.integer({ min: 0, max: 255 }) }),
);

function mutateOnce(body: Buffer, m: Mutation): Buffer {
  const i = Math.floor(m.at * body.length);
  switch (m.op) {
    case 'insert':
      return Buffer.concat([body.subarray(0, i), Buffer.from(m.text, 'utf8'), body.subarray(i)]);
    case 'delete':
      return Buffer.concat([body.subarray(0, i), body.subarray(i + m.length)]);
    case 'duplicate':
      return Buffer.concat([body.subarray(0, i + m.length), body.subarray(i)]);
    case 'truncate':
      return body.subarray(0, i);
    case 'byte': {
      const copy = Buffer.from(body);
      if (i < copy.length) copy[i] = m.byte;
      return copy;
    }
  }
}

/** `body` with one to three random corruptions. */
export function mutate(body: Buffer): fc.Arbitrary<Buffer> {
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => ms.reduce(mutateOnce, body));
}

// ---------------------------------------------------------------------------------------------
// Single updates (API.md 2.3)

export interface UpdateCase {
  method: 'GET' | 'POST';
  query: string;
  body?: string;
  /** What the contract answers: the status, and on 200 which profile gets which attributes. */
  expect(): { status: number; orStatus?: number; thirdPartyId?: string; attributes?: Record<string, string> };
  /** How fast-check prints it (long values shortened). */
  [fc.toStringMethod](): string;
}

/** API.md 2.1: 1 to 128 characters, none of them a control character (C0, DEL, C1). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const nameIsValid = (name: string) => name.length > 0 && [...name].length <= 128 && !CONTROL.test(name);
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const THIRD_PARTY_IDS = ['u0', 'u1', 'u2'];

const shortValue = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom(' ', '+', '%', '&', '=', 'a b', '🙂', '%zz'),
);

/** Update requests against profiles u0, u1, u2 (whose pcIds map to them in `pcIds`). */
export function updateRequest(pcIds: ReadonlyMap<string, string>): fc.Arbitrary<UpdateCase> {
  const idParam = fc.oneof(
    fc.tuple(
      fc.constant('mbox3rdPartyId'),
      fc.oneof(
        fc.constantFrom(...THIRD_PARTY_IDS),
        fc.constantFrom('nobody', '', 'a+b', 'a/b', 'x'.repeat(257)),
        shortValue,
      ),
    ),
    fc.tuple(fc.constant('mboxPC'), fc.oneof(fc.constantFrom(...pcIds.keys()), fc.constantFrom('nope', ''))),
  );
  const name = fc.oneof(
    fc.constantFrom('profile.tier', 'profile.city', 'profile.a.b', 'profile.profile.x', 'profile.N_1'),
    fc.constantFrom(
      'profile.',
      'profile.__proto__',
      'profile.constructor',
      'profile.bad\u0001name',
      'profile.first name',
      'tier',
      `profile.${'n'.repeat(129)}`,
    ),
    fc.string({ maxLength: 8 }).map((s) => `profile.${s}`),
  );
  const attribute = fc.tuple(name, fc.oneof({ weight: 9, arbitrary: shortValue }, fc.constant('v'.repeat(5001))));
  const junk = fc.tuple(fc.constantFrom('x', 'access_token', 'client', 'mbox'), shortValue);
  return fc
    .record({
      ids: fc.array(idParam, { maxLength: 2 }),
      attributes: fc.array(attribute, { maxLength: 4 }),
      junk: fc.array(junk, { maxLength: 1 }),
      post: fc.boolean(),
      split: fc.nat(6),
      pad: fc.constantFrom(0, 0, 0, 9000),
      plus: fc.boolean(),
    })
    .map(({ ids, attributes, junk, post, split, pad, plus }) => {
      const params: Array<[string, string]> = [...ids, ...attributes, ...junk];
      if (pad > 0) params.push(['pad', 'x'.repeat(pad)]);
      const encode = (pairs: Array<[string, string]>) =>
        pairs
          .map(
            ([n, v]) =>
              `${encodeURIComponent(n)}=${plus ? encodeURIComponent(v).replace(/%20/g, '+') : encodeURIComponent(v)}`,
          )
          .join('&');
      const inQuery = post ? params.slice(0, split) : params;
      const inBody = post ? params.slice(split) : [];
      const query = encode(inQuery);
      const body = post ? encode(inBody) : undefined;
      return {
        method: post ? 'POST' : 'GET',
        query,
        ...(body !== undefined ? { body } : {}),
        expect: () => expectUpdate(query, body, pcIds),
        [fc.toStringMethod]: () => `${post ? 'POST' : 'GET'} ?${short(query)}${post ? ` body ${short(body!)}` : ''}`,
      } satisfies UpdateCase;
    });
}

function short(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…(${text.length} chars)` : text);
}

function expectUpdate(query: string, body: string | undefined, pcIds: ReadonlyMap<string, string>) {
  // Past Node's 16 KB limit on a request head, the HTTP server answers 431 before any route runs.
  if (Buffer.byteLength(query) > 15_000) return { status: 413, orStatus: 431 };
  if (Buffer.byteLength(query) > 8 * 1024) return { status: 413 };
  const params = new Map<string, string>();
  for (const [name, value] of [...new URLSearchParams(query), ...new URLSearchParams(body ?? '')]) {
    if (params.has(name)) return { status: 400 };
    params.set(name, value);
  }
  const thirdPartyId = params.get('mbox3rdPartyId');
  const pcId = params.get('mboxPC');
  if ((thirdPartyId === undefined) === (pcId === undefined)) return { status: 400 };
  const raw = [...params].filter(([name]) => name.startsWith('profile.'));
  const id = (thirdPartyId ?? pcId)!;
  if (id === '' || id.length > 256 || (thirdPartyId !== undefined && /[+/]/.test(id))) return { status: 400 };
  const attributes: Record<string, string> = {};
  for (const [rawName, value] of raw) {
    const name = rawName.slice('profile.'.length);
    if (!nameIsValid(name) || RESERVED.has(name) || value.length > 5000) return { status: 400 };
    if (value !== '') attributes[name] = value;
  }
  const target = thirdPartyId !== undefined ? (THIRD_PARTY_IDS.includes(id) ? id : undefined) : pcIds.get(id);
  if (target === undefined) return { status: 404 };
  return { status: 200, thirdPartyId: target, attributes };
}

// ---------------------------------------------------------------------------------------------
// Authorization headers (API.md 2.0)

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Headers built around the current token: near misses, other credentials, odd spelling, noise. */
export function authHeader(token: string, otherToken: string, adminKey: string): fc.Arbitrary<string> {
  const n = token.length;
  const [head, , sig] = token.split('.') as [string, string, string];
  const otherPayload = otherToken.split('.')[1]!;
  const variant = fc.oneof(
    { weight: 4, arbitrary: fc.constant(token) },
    fc.constantFrom(otherToken, adminKey, `${head}.${otherPayload}.${sig}`, token.toLowerCase(), token + token),
    fc.tuple(fc.nat(n - 1), fc.constantFrom(...B64)).map(([i, c]) => token.slice(0, i) + c + token.slice(i + 1)),
    fc.nat(n - 1).map((i) => token.slice(0, i) + token.slice(i + 1)),
    fc
      .tuple(fc.nat(n), fc.constantFrom(...B64, '.', '~', '+', '/'))
      .map(([i, c]) => token.slice(0, i) + c + token.slice(i)),
    fc.nat(n - 1).map((i) => token.slice(0, i)),
    fc.constantFrom('=', '==', '.', 'A', '.x', '~').map((s) => token + s),
    fc.stringMatching(/^[A-Za-z0-9._~+/-]{1,60}$/),
  );
  const scheme = fc.constantFrom(
    'Bearer',
    'bearer',
    'BEARER',
    'BeArEr',
    'Bearer:',
    'Basic',
    'Token',
    '',
    'Bearer,',
    'Bearerx',
  );
  const separator = fc.constantFrom(' ', '  ', '\t', '', ' \t', '    ');
  const trailing = fc.constantFrom('', '', ' ', '  ', '\t', ' x', ',', ' ,x', '"');
  const leading = fc.constantFrom('', '', ' ', '\t');
  const structured = fc.tuple(leading, scheme, separator, variant, trailing).map((parts) => parts.join(''));
  return fc.oneof(
    { weight: 8, arbitrary: structured },
    fc.stringMatching(/^[\x20-\x7e\t]{0,80}$/),
    variant.map((t) => `Bearer "${t}"`),
    fc.constant(`Bearer ${'A'.repeat(8192)}`),
  );
}

/** The status API.md 2.0 gives a profile request with this header on a closed client (200 = passes). */
export function admitted(header: string, token: string): number {
  const value = header.replace(/^[ \t]+|[ \t]+$/g, ''); // HTTP drops surrounding white space
  if (value === '') return 401;
  if (value.length > 4096 + 64) return 401;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(value);
  if (!match) return 400;
  return match[1] === token ? 200 : 401;
}
