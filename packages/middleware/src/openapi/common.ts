/** Building blocks shared by the parts of the OpenAPI document (see ../openapi.ts). */

export type Json = Record<string, unknown>;

export const ref = (kind: 'schemas' | 'responses' | 'parameters' | 'headers', name: string): Json => ({
  $ref: `#/components/${kind}/${name}`,
});

export const ISO_TIME: Json = { type: 'string', format: 'date-time' };

// --- Media helpers ---------------------------------------------------------------------------

/**
 * Content of a negotiated profile response: XML by default, JSON when `Accept` prefers it. An
 * example is the body's data, as OpenAPI wants it under an object schema, for both media types:
 * the schema's `xml` names say how it is written as XML (`<response><success>true</success>…`).
 */
export function xmlOrJson(schema: string, example?: Json, xmlSchema = schema): Json {
  const xml: Json = { schema: ref('schemas', xmlSchema) };
  const json: Json = { schema: ref('schemas', schema) };
  if (example !== undefined) xml.example = json.example = example;
  return { 'application/xml': xml, 'application/json': json };
}

/** An attribute name (API.md 2.1): 1 to 128 characters, none a control character. */
export const ATTRIBUTE_NAME_CHARS = '[^\\u0000-\\u001f\\u007f-\\u009f]{1,128}';

/**
 * Content of an admin request body or answer: JSON under any JSON media type; Adobe's Admin API
 * clients send `application/vnd.adobe.target.v1+json` (any `application/*+json` is read the same
 * way), and the admin routes answer in that type when the request's Accept prefers it.
 */
export function jsonRequestContent(schema: string, example?: unknown): Json {
  const media = jsonContent(schema, example)['application/json'];
  return { 'application/json': media, 'application/vnd.adobe.target.v1+json': media };
}

export function jsonContent(schema: string, example?: unknown): Json {
  const media: Json = { schema: ref('schemas', schema) };
  if (example !== undefined) media.example = example;
  return { 'application/json': media };
}
