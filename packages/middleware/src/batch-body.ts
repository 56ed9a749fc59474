import { batchFormPrefix } from '@profilegate/client';
import { PayloadTooLargeError, ProfilegateError, ValidationError, type BatchFormat } from '@profilegate/core';
import busboy from 'busboy';
import type { Request } from 'express';
import type { Readable } from 'node:stream';

/** A batch body ready for `ProfileService.submitBatch`. */
export interface BatchBody {
  format: BatchFormat;
  source: AsyncIterable<Buffer>;
}

const UNSUPPORTED =
  'Send the batch as application/x-www-form-urlencoded (batch=… as curl --data-binary @file sends it), ' +
  'text/csv, multipart/form-data (a file part named "batch" or "file") or application/json';

const MALFORMED = 'The multipart body is malformed or ends before its closing boundary; send the complete body';

/** Picks the batch format from Content-Type and unwraps multipart (API.md 2.1). */
export async function readBatchBody(req: Request, maxBytes: number): Promise<BatchBody> {
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw new ProfilegateError(415, 'UnsupportedMediaType', 'Send the batch uncompressed (no Content-Encoding)');
  }
  const declared = Number(req.headers['content-length']);
  // Multipart adds a little framing around the file, so allow a small margin for it.
  if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) {
    throw new PayloadTooLargeError(`Batch body is ${declared} bytes; the limit is ${maxBytes} bytes`);
  }
  if (!req.headers['content-type']) throw new ProfilegateError(415, 'UnsupportedMediaType', UNSUPPORTED);
  const format = formatOf(req);
  if (req.readableEnded) return alreadyRead(req, format);
  if (format === 'multipart') return readMultipart(req, maxBytes);
  return { format, source: req };
}

const FORMATS: Readonly<Record<string, BatchFormat | 'multipart'>> = {
  'application/x-www-form-urlencoded': 'form',
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/json': 'json',
  'multipart/form-data': 'multipart',
};

/**
 * The format named by Content-Type. Read from the header itself, not `req.is()`, which answers
 * null for a request without a body: an empty POST is then "Batch is empty" (400), not a 415
 * telling the caller to use the very type it sent.
 */
function formatOf(req: Request): BatchFormat | 'multipart' {
  const mediaType = String(req.headers['content-type']).split(';', 1)[0]!.trim().toLowerCase();
  const format = Object.hasOwn(FORMATS, mediaType) ? FORMATS[mediaType] : undefined;
  if (format === undefined) throw new ProfilegateError(415, 'UnsupportedMediaType', UNSUPPORTED);
  return format;
}

/**
 * A body a host's parser (mounted before the router) already read: used when it kept the exact
 * text (express.text, express.raw) or when it is JSON (express.json); refused otherwise, since a
 * parsed form has lost its encoding and line structure. That refusal is the host's setup, not the
 * caller's input, so it is an unexpected error (500, reported to onError).
 */
function alreadyRead(req: Request, format: BatchFormat | 'multipart'): BatchBody {
  const body: unknown = req.body;
  if (format !== 'multipart' && (typeof body === 'string' || Buffer.isBuffer(body))) {
    return { format, source: once(Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')) };
  }
  if (format === 'json' && typeof body === 'object' && body !== null) {
    return { format, source: once(Buffer.from(JSON.stringify(body), 'utf8')) };
  }
  throw new Error(
    'The batch body was already read by a body parser mounted before profileApi() (express.urlencoded or similar); ' +
      'mount profileApi() before it, or limit that parser to your own routes',
  );
}

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

/** Waits for the first file part named `batch` or `file` and sniffs which CSV form it holds. */
async function readMultipart(req: Request, maxBytes: number): Promise<BatchBody> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { files: 10, fields: 20, parts: 30, fileSize: maxBytes } });
  } catch {
    throw new ValidationError('The multipart body has no boundary; let your HTTP client build the Content-Type');
  }
  let truncated = false;
  let chosen = false;
  const file = await new Promise<Readable>((resolve, reject) => {
    parser.on('file', (name, stream) => {
      // busboy emits 'error' on a file stream when the body ends inside it (a cut-off upload).
      // Unheard, that event would take the whole process down; the reader of the chosen part
      // sees the error through its async iterator, and the parser reports it for the others.
      stream.on('error', () => undefined);
      // The first part named `batch` or `file` is the batch; other files (before or after it) are
      // drained, so a stray part can neither hide the batch nor stall the upload.
      if (!chosen && (name === 'batch' || name === 'file')) {
        chosen = true;
        // Listen at once: busboy may hit the size limit within the same write that emitted the
        // file, before the awaiting code below runs.
        stream.on('limit', () => (truncated = true));
        resolve(stream);
      } else stream.resume();
    });
    parser.on('error', () => reject(new ValidationError(MALFORMED)));
    parser.on('close', () =>
      reject(new ValidationError('The multipart body has no file part named "batch" or "file"')),
    );
    parser.on('filesLimit', () => undefined);
    // `pipe` never ends the parser when the client goes away mid-upload: the file part would then
    // wait forever, holding the request, its spool file and its temporary folder.
    req.once('close', () => {
      if (!req.complete) parser.destroy(new ValidationError('The request ended before its multipart body did'));
    });
    req.pipe(parser);
  });
  const chunks = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const next = async (): Promise<IteratorResult<Buffer>> => {
    try {
      return await chunks.next();
    } catch {
      throw new ValidationError(MALFORMED);
    }
  };
  // Read enough to see whether the file starts with `batch=` (Adobe's form) or is plain CSV.
  const head: Buffer[] = [];
  let done = false;
  let prefix = batchFormPrefix(Buffer.alloc(0), false);
  while (prefix === undefined) {
    const item = await next();
    if (item.done) done = true;
    else head.push(item.value);
    prefix = batchFormPrefix(Buffer.concat(head), done);
  }
  const format: BatchFormat = prefix.form ? 'form' : 'csv';
  async function* source(): AsyncGenerator<Buffer> {
    yield* head;
    while (!done) {
      const item = await next();
      if (item.done) break;
      yield item.value;
    }
    if (truncated || (file as Readable & { truncated?: boolean }).truncated === true)
      throw new PayloadTooLargeError(`Batch file is over the limit of ${maxBytes} bytes`);
  }
  return { format, source: source() };
}
