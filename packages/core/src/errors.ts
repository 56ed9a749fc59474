/** Base error of Profilegate: carries the HTTP status, a stable code and optional response headers. */
export class ProfilegateError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Input that breaks a documented rule (HTTP 400). */
export class ValidationError extends ProfilegateError {
  constructor(message: string, code = 'InvalidRequest') {
    super(400, code, message);
  }
}

/** A body, row count or parameter size over its limit (HTTP 413). */
export class PayloadTooLargeError extends ProfilegateError {
  constructor(message: string) {
    super(413, 'PayloadTooLarge', message);
  }
}

/** A client, profile, batch or token that does not exist (HTTP 404). */
export class NotFoundError extends ProfilegateError {
  constructor(message: string, code = 'NotFound') {
    super(404, code, message);
  }
}

/** An authenticated actor without the right to do something (HTTP 403). */
export class ForbiddenError extends ProfilegateError {
  constructor(message: string) {
    super(403, 'Forbidden', message);
  }
}

/** A whole batch refused while parsing; `line` is the 1-based line of the body where it failed. */
export class BatchRejectedError extends ValidationError {
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super(line === undefined ? message : `Line ${line}: ${message}`, 'InvalidBatch');
    this.line = line;
  }
}
