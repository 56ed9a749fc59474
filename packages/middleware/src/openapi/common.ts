/** Building blocks shared by the parts of the OpenAPI document (see ../openapi.ts). */

export type Json = Record<string, unknown>;

export const ref = (kind: 'schemas' | 'responses' | 'parameters' | 'headers', name: string): Json => ({
  $ref: `#/components/${kind}/${name}`,
});

export const ISO_TIME: Json = { type: 'string', format: 'date-time' };

// --- Media helpers ---------------------------------------------------------------------------

/** Content of a negotiated profile response: XML by default, JSON when `Accept` prefers it. */
export function xmlOrJson(schema: string, xmlExample?: string, jsonExample?: unknown): Json {
  const xml: Json = { schema: ref('schemas', schema) };
  const json: Json = { schema: ref('schemas', schema) };
  if (xmlExample !== undefined) xml.example = xmlExample;
  if (jsonExample !== undefined) json.example = jsonExample;
  return { 'application/xml': xml, 'application/json': json };
}

export function jsonContent(schema: string, example?: unknown): Json {
  const media: Json = { schema: ref('schemas', schema) };
  if (example !== undefined) media.example = example;
  return { 'application/json': media };
}
