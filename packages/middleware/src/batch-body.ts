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
  if (req.is('application/x-www-form-urlencoded')) return { format: 'form', source: req };
  if (req.is(['text/csv', 'application/csv'])) return { format: 'csv', source: req };
  if (req.is('application/json')) return { format: 'json', source: req };
  if (req.is('multipart/form-data')) return readMultipart(req, maxBytes);
  throw new ProfilegateError(415, 'UnsupportedMediaType', UNSUPPORTED);
}

/** Waits for the first file part named `batch` or `file` and sniffs which CSV form it holds. */
async function readMultipart(req: Request, maxBytes: number): Promise<BatchBody> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { files: 1, fields: 20, parts: 21, fileSize: maxBytes } });
  } catch {
    throw new ValidationError('The multipart body has no boundary; let your HTTP client build the Content-Type');
  }
  const file = await new Promise<Readable>((resolve, reject) => {
    parser.on('file', (name, stream) => {
      if (name === 'batch' || name === 'file') resolve(stream);
      else stream.resume();
    });
    parser.on('error', () => reject(new ValidationError('The multipart body is malformed')));
    parser.on('close', () => reject(new ValidationError('The multipart body has no file part named "batch" or "file"')));
    parser.on('filesLimit', () => undefined);
    req.pipe(parser);
  });
  let truncated = false;
  file.on('limit', () => (truncated = true));
  const chunks = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // Read enough to see whether the file starts with `batch=` (Adobe's form) or is plain CSV.
  const head: Buffer[] = [];
  let headBytes = 0;
  let done = false;
  while (headBytes < 6 && !done) {
    const next = await chunks.next();
    if (next.done) done = true;
    else {
      head.push(next.value);
      headBytes += next.value.length;
    }
  }
  const format: BatchFormat = Buffer.concat(head).toString('latin1').startsWith('batch=') ? 'form' : 'csv';
  async function* source(): AsyncGenerator<Buffer> {
    yield* head;
    while (!done) {
      const next = await chunks.next();
      if (next.done) break;
      yield next.value;
    }
    if (truncated) throw new PayloadTooLargeError(`Batch file is over the limit of ${maxBytes} bytes`);
  }
  return { format, source: source() };
}
