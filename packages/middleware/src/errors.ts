import { ProfilegateError } from '@profilegate/core';

/** A typed error reduced to what a response needs. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
  /** True when it is our fault, not the caller's (the only case that may answer 500). */
  unexpected: boolean;
}

const BODY_PARSER_CODES: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'InvalidJson', 'The body is not valid JSON'],
  'entity.too.large': [413, 'PayloadTooLarge', 'The body is too large'],
  'encoding.unsupported': [415, 'UnsupportedMediaType', 'The body encoding is not supported; send it uncompressed'],
  'charset.unsupported': [415, 'UnsupportedMediaType', 'The body charset is not supported; send UTF-8'],
  'request.aborted': [400, 'RequestAborted', 'The request was aborted before its body was read'],
  'request.size.invalid': [400, 'InvalidRequest', 'The body is shorter or longer than its Content-Length'],
  'stream.encoding.set': [400, 'InvalidRequest', 'The body could not be read'],
  'parameters.too.many': [413, 'PayloadTooLarge', 'Too many parameters'],
};

/** Maps any thrown value to status, code, message and headers, in one place for every route. */
export function toErrorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof ProfilegateError) {
    return {
      status: error.status,
      code: error.code,
      message: error.message,
      headers: error.headers,
      unexpected: false,
    };
  }
  if (error instanceof URIError) {
    return {
      status: 400,
      code: 'InvalidRequest',
      message: 'The URL has a "%" that is not followed by two hex digits of UTF-8; encode a literal "%" as %25',
      headers: {},
      unexpected: false,
    };
  }
  const type = (error as { type?: unknown })?.type;
  if (typeof type === 'string' && BODY_PARSER_CODES[type]) {
    const [status, code, message] = BODY_PARSER_CODES[type];
    return { status, code, message, headers: {}, unexpected: false };
  }
  const status = (error as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: 'InvalidRequest', message: 'The request could not be read', headers: {}, unexpected: false };
  }
  return {
    status: 500,
    code: 'InternalError',
    message: 'Something went wrong on the server; the request was not applied. Try again.',
    headers: {},
    unexpected: true,
  };
}
