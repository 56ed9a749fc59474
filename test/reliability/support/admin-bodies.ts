/**
 * fast-check inputs of the fuzz section for the admin routes' JSON bodies (API.md 3.1 and 3.2),
 * each with the answer the contract gives it, computed from the rules, not from the server's code.
 */
import { strict as assert } from 'node:assert';
import { JSONParser } from '@streamparser/json';
import fc from 'fast-check';

export interface AdminInput {
  text: string;
  type: string | undefined;
  expect(): { status: number; verify(answer: Record<string, unknown>, after: unknown): void };
}

const TYPES = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json; charset=utf-8',
    'Application/JSON',
    'text/plain',
    'application/x-www-form-urlencoded',
    undefined,
  ),
);
const anyValue = fc.oneof(
  fc.double(),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 1 }),
);
const extra = fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 1 });

function adminInput(
  texts: fc.Arbitrary<string>,
  expect: (text: string, type: string | undefined) => ReturnType<AdminInput['expect']>,
) {
  return fc.tuple(texts, TYPES).map(([text, type]): AdminInput => ({ text, type, expect: () => expect(text, type) }));
}

/** The body-parser steps every admin JSON body goes through; a status, or the parsed value. */
function parsed(text: string, type: string | undefined): { status: number } | { value: unknown } {
  if (!/^application\/json(;|$)/i.test(type ?? '')) return { status: 415 };
  if (!/^[ \t\r\n]*[{[]/.test(text)) return { status: 400 }; // strict JSON: an object or an array
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { status: 400 };
  }
  // A field given twice is refused (JSON.parse would keep the last one silently).
  return repeatsTopLevelField(text) ? { status: 400 } : { value };
}

/**
 * Whether the text's top-level object names a field twice, found with another JSON parser than
 * the server's scan (@streamparser/json reports each top-level member as it is read).
 */
function repeatsTopLevelField(text: string): boolean {
  const parser = new JSONParser({ paths: ['$.*'] });
  const seen = new Set<string>();
  let repeated = false;
  parser.onValue = ({ key, stack }) => {
    if (stack.length !== 1 || typeof key !== 'string') return;
    if (seen.has(key)) repeated = true;
    seen.add(key);
  };
  parser.onError = () => undefined;
  try {
    parser.write(text);
  } catch {
    // Not JSON: JSON.parse has said so already.
  }
  return repeated;
}

/** Body texts: mostly near-valid objects, then hand-picked edge cases, any JSON, any string. */
function bodyTexts(object: fc.Arbitrary<string>, raw: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: object },
    raw,
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 20 }),
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const wholeIn = (v: unknown, min: number, max: number) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** POST token bodies: valid, near the limits, of the wrong type, not JSON. */
export function tokenBody(): fc.Arbitrary<AdminInput> {
  const number = fc.oneof(
    fc.integer({ min: 300, max: 31_536_000 }),
    fc.constantFrom(299, 300, 31_536_000, 31_536_001, 0, -1, 86_400, 86_401, 600.5),
  );
  const field = fc.oneof({ weight: 3, arbitrary: number }, anyValue);
  const object = fc
    .tuple(fc.record({ expiresIn: field, previousTokenGraceSeconds: field }, { requiredKeys: [] }), fc.option(extra))
    .map(([o, e]) => JSON.stringify({ ...o, ...(e ?? {}) }));
  const raw = fc.constantFrom(
    '',
    ' ',
    'null',
    '[]',
    '{}',
    '"x"',
    '0',
    'true',
    '{',
    '{"expiresIn": 3e2}',
    '{"expiresIn": 1e400}',
    '{"expiresIn": 300.0}',
    '{"previousTokenGraceSeconds": -0}',
    '{"expiresIn":300,"expiresIn":299}',
    '{"expiresIn":300,}',
    '{"__proto__":{"expiresIn":300}}',
    '{"expiresIn": "300"}',
    '{"previousTokenGraceSeconds": null}',
  );
  const texts = bodyTexts(object, raw);
  return adminInput(texts, (text, type) => {
    let body: unknown = undefined;
    if (text !== '') {
      const step = parsed(text, type);
      if ('status' in step) return { status: step.status, verify: () => undefined };
      body = step.value;
    }
    const ok = body === undefined || (isObject(body) && validGenerate(body));
    if (!ok) return { status: 400, verify: () => undefined };
    const expiresIn = isObject(body) && body['expiresIn'] !== undefined ? (body['expiresIn'] as number) : 7_776_000;
    return {
      status: 201,
      verify(answer, after) {
        assert.equal(
          (after as { accessToken?: string } | null)?.accessToken,
          answer['accessToken'],
          'GET shows the new token',
        );
        const left = answer['expiresIn'] as number;
        assert.ok(left <= expiresIn && left >= expiresIn - 2, `expiresIn ${left} for a requested ${expiresIn}`);
      },
    };
  });
}

function validGenerate(body: Record<string, unknown>): boolean {
  if (Object.keys(body).some((k) => k !== 'expiresIn' && k !== 'previousTokenGraceSeconds')) return false;
  const { expiresIn, previousTokenGraceSeconds: grace } = body;
  return (
    (expiresIn === undefined || wholeIn(expiresIn, 300, 31_536_000)) &&
    (grace === undefined || wholeIn(grace, 0, 86_400))
  );
}

/**
 * PUT settings bodies (API.md 3.2, 5): `requireAuthentication` (boolean), `profileRetentionDays`
 * (null or a whole number 1..3650), or both, and nothing else, are valid.
 */
export function settingsBody(): fc.Arbitrary<AdminInput> {
  const days = fc.oneof(
    { weight: 3, arbitrary: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 3650 })) },
    fc.constantFrom(0, 3651, 1.5, -1, '30', true, 1e21),
    anyValue,
  );
  const object = fc
    .tuple(
      fc.record(
        {
          requireAuthentication: fc.oneof({ weight: 3, arbitrary: fc.boolean() }, anyValue),
          profileRetentionDays: days,
        },
        { requiredKeys: [] },
      ),
      fc.option(extra),
    )
    .map(([o, e]) => JSON.stringify({ ...o, ...(e ?? {}) }));
  const raw = fc.constantFrom(
    '',
    ' ',
    '{}',
    '[]',
    'true',
    '{',
    '{"RequireAuthentication": true}',
    '{"requireAuthentication": "true"}',
    '{"requireAuthentication": true, "requireAuthentication": false}',
    '{"requireAuthentication": 1}',
    '[{"requireAuthentication": true}]',
    '{"profileRetentionDays": 30}',
    '{"profileRetentionDays": null}',
    '{"profileRetentionDays": 0}',
    '{"profileRetentionDays": 30.0}',
    '{"profileRetentionDays": 3e3}',
  );
  const texts = bodyTexts(object, raw);
  const validDays = (v: unknown) => v === null || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 3650);
  return adminInput(texts, (text, type) => {
    if (text === '') return { status: 400, verify: () => undefined };
    const step = parsed(text, type);
    if ('status' in step) return { status: step.status, verify: () => undefined };
    const body = step.value;
    const keys = isObject(body) ? Object.keys(body) : [];
    if (
      !isObject(body) ||
      keys.length === 0 ||
      keys.some((k) => k !== 'requireAuthentication' && k !== 'profileRetentionDays') ||
      ('requireAuthentication' in body && typeof body['requireAuthentication'] !== 'boolean') ||
      ('profileRetentionDays' in body && !validDays(body['profileRetentionDays']))
    ) {
      return { status: 400, verify: () => undefined };
    }
    return {
      status: 200,
      verify(answer, after) {
        for (const field of keys) {
          assert.equal(answer[field], body[field]);
          assert.equal((after as Record<string, unknown>)[field], body[field], 'GET shows the change');
        }
      },
    };
  });
}
