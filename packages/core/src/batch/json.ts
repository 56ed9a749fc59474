import { TokenParser, Tokenizer, TokenType, type ParsedTokenInfo } from '@streamparser/json';
import { BatchRejectedError, ProfilegateError } from '../errors';
import { BATCH_SHAPE_LIMITS, outsideTooLarge, profileTooLarge, yieldToEventLoop } from './bounds';
import { asTypedError, batchIsEmpty, bodyTooLarge, notUtf8, toBuffer, tooManyRows, Utf8Guard } from './text';
import { readProfile, repeatedKeyFailure, type Item } from './json-profile';
import type { BatchLimits } from './types';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const TOKENIZER_POSITION = /absolute position "(\d+)"/;
/**
 * Bytes tokenized between two turns of the event loop: smaller than a CSV slice, since a JSON
 * element can be as short as `{},` (16 KB of them take about 10 ms to read and fail).
 */
const JSON_SLICE_BYTES = 16 * 1024;
const SHAPE = 'send {"profiles":[{"thirdPartyId":"…","attributes":{"name":"value"}}]}';

/**
 * Parses a JSON batch body: `{"profiles":[{"pcId"|"thirdPartyId": "…", "attributes": {…}}]}` (a
 * null value removes that attribute), as a stream: each element of "profiles" becomes a row or a
 * row failure (its `line` is its 1-based index) as soon as it has been read, and is then dropped. Rows, the body's bytes and the bytes of
 * each element are counted while the body arrives; the items of each 16 KB are yielded together, and the event loop
 * gets a turn, before the next 16 KB.
 */
export async function* parseJson(source: AsyncIterable<Buffer | string>, limits: BatchLimits): AsyncGenerator<Item[]> {
  const out: Item[] = [];
  const reader = new ProfilesReader(limits, out);
  const guard = new Utf8Guard();
  let head: Buffer | null = Buffer.alloc(0); // bytes before a BOM is settled
  let bytes = 0;
  try {
    for await (const chunk of source) {
      let data = toBuffer(chunk);
      bytes += data.length;
      if (bytes > limits.maxBytes) throw bodyTooLarge(limits);
      if (head !== null) {
        head = head.length === 0 ? data : Buffer.concat([head, data]);
        const rest = afterBom(head, false);
        if (rest === undefined) continue;
        head = null;
        data = rest;
      }
      const { valid, badLine } = guard.check(data);
      for (let at = 0; at < valid.length; at += JSON_SLICE_BYTES) {
        reader.write(valid.subarray(at, at + JSON_SLICE_BYTES));
        if (out.length > 0) yield out.splice(0);
        await yieldToEventLoop();
      }
      if (badLine !== null) throw notUtf8();
    }
    if (head !== null) {
      const { valid, badLine } = guard.check(afterBom(head, true) ?? head);
      reader.write(valid);
      if (badLine !== null) throw notUtf8();
    }
    if (guard.finish() !== null) throw notUtf8();
    reader.end();
    if (out.length > 0) yield out.splice(0);
  } catch (error) {
    throw asTypedError(error);
  }
}

/**
 * The tokenizer's string builder decodes each run of bytes (and each `\u` escape) with a
 * TextDecoder that drops a U+FEFF at the start of what it decodes, so a U+FEFF inside a value or
 * an id would vanish. Its decoder is replaced by one that keeps it (the body's own leading BOM is
 * taken off before the tokenizer sees it, by afterBom).
 */
function keepByteOrderMarks(tokenizer: Tokenizer): Tokenizer {
  const builder = (tokenizer as unknown as { bufferedString?: { decoder?: unknown } }).bufferedString;
  if (!builder || !(builder.decoder instanceof TextDecoder)) {
    throw new Error(
      '@streamparser/json changed: its string builder has no decoder to replace (see keepByteOrderMarks)',
    );
  }
  builder.decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return tokenizer;
}

/** The body after a UTF-8 BOM; undefined while `head` is too short to tell (and `atEnd` is false). */
function afterBom(head: Buffer, atEnd: boolean): Buffer | undefined {
  const bomBytes = Math.min(head.length, BOM.length);
  if (!head.subarray(0, bomBytes).equals(BOM.subarray(0, bomBytes))) return head;
  if (bomBytes === BOM.length) return head.subarray(BOM.length);
  return atEnd ? head : undefined;
}

function notTheShape(): BatchRejectedError {
  return new BatchRejectedError(`The JSON body must be an object with a "profiles" array; ${SHAPE}`);
}

/**
 * Follows the tokens of the body (from @streamparser/json's tokenizer) to find "profiles" and to
 * bound what is held: its token parser builds one element of "profiles" at a time (and drops every
 * value outside them as soon as it is complete), and no element, nor any stretch outside them, may
 * grow past `BATCH_SHAPE_LIMITS.maxRecordChars` bytes.
 */
class ProfilesReader {
  private readonly tokenizer = keepByteOrderMarks(new Tokenizer());
  private readonly values = new TokenParser({ paths: ['$.profiles.*'], keepStack: false });
  /** Bytes written so far (after the BOM). */
  private fed = 0;
  private tokens = 0;
  /** Offset of the latest token: where a token the parser refuses is. */
  private lastOffset = 0;
  /** Containers open around the next token. */
  private depth = 0;
  /** Inside the root object, the next string is a key. */
  private expectKey = false;
  private key: string | null = null;
  private profilesSeen = false;
  /** Inside the "profiles" array (between its brackets). */
  private inProfiles = false;
  /** Where the current element of "profiles", or the current stretch outside them, began. */
  private segmentStart = 0;
  private rows = 0;
  /**
   * Keys of the current element of "profiles" (depth 3) and of its "attributes" (depth 4): the
   * first one given twice is `repeated`, since the token parser keeps only the last. Per depth
   * inside the element: whether it is an object, and whether its next string is a key.
   */
  private readonly elementKeys = new Set<string>();
  private readonly attributeKeys = new Set<string>();
  private elementKey: string | null = null;
  private inAttributes = false;
  private readonly isObjectAt: boolean[] = [];
  private readonly expectKeyAt: boolean[] = [];
  private repeated: { name: string; inAttributes: boolean } | null = null;

  constructor(
    private readonly limits: BatchLimits,
    private readonly out: Item[],
  ) {
    this.tokenizer.onToken = (info) => {
      this.onToken(info);
      this.values.write(info);
    };
    this.values.onValue = ({ value }) => this.onProfile(value);
  }

  /** Parses the next part of the body (whole UTF-8 sequences; at most a slice, so the bound below is checked often). */
  write(data: Buffer): void {
    if (data.length === 0) return;
    this.fed += data.length;
    this.guarded(() => this.tokenizer.write(data));
    if (this.fed - this.segmentStart > BATCH_SHAPE_LIMITS.maxRecordChars) {
      throw this.inProfiles ? profileTooLarge(this.rows + 1) : outsideTooLarge();
    }
  }

  /** At the end of the body: throws unless it was one complete object with a non-empty "profiles" array. */
  end(): void {
    if (this.fed === 0) throw batchIsEmpty();
    this.guarded(() => this.tokenizer.end());
    if (this.tokens === 0 || !this.values.isEnded) {
      throw new BatchRejectedError(`The body is not valid JSON (it ends before the JSON does); ${SHAPE}`);
    }
    if (!this.profilesSeen) throw notTheShape();
    if (this.rows === 0) throw batchIsEmpty();
  }

  /** Runs the tokenizer; its errors (and the token parser's) are JSON syntax errors, ours pass through. */
  private guarded(run: () => void): void {
    try {
      run();
    } catch (error) {
      if (error instanceof ProfilegateError) throw error;
      const message = error instanceof Error ? error.message : '';
      const position = TOKENIZER_POSITION.exec(message);
      const at = position ? Number(position[1]) : message.startsWith('Tokenizer ended') ? null : this.lastOffset;
      const where = at === null ? ' (it ends before the JSON does)' : ` (at byte ${at + 1})`;
      throw new BatchRejectedError(`The body is not valid JSON${where}; ${SHAPE}`);
    }
  }

  private onToken({ token, value, offset }: ParsedTokenInfo): void {
    this.tokens++;
    this.lastOffset = offset;
    switch (token) {
      case TokenType.LEFT_BRACE:
      case TokenType.LEFT_BRACKET:
        this.onValueStart(token, offset);
        this.depth++;
        if (this.depth === 1) this.expectKey = true;
        if (this.inProfiles && this.depth >= 3) this.openContainer(token === TokenType.LEFT_BRACE);
        return;
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET:
        if (this.depth === 4) this.inAttributes = false;
        this.depth--;
        if (this.depth === 1 && this.inProfiles) {
          this.inProfiles = false;
          this.segmentStart = offset;
        }
        return;
      case TokenType.COMMA:
        if (this.depth === 1) this.expectKey = true;
        if (this.depth >= 3 && this.inProfiles && this.isObjectAt[this.depth]) this.expectKeyAt[this.depth] = true;
        return;
      case TokenType.STRING:
        if (this.depth >= 3 && this.inProfiles && this.expectKeyAt[this.depth]) {
          this.onElementKey(value as string);
          return;
        }
        if (this.depth === 1 && this.expectKey) {
          this.expectKey = false;
          this.key = value as string;
          this.segmentStart = offset;
          return;
        }
        this.onValueStart(token, offset);
        return;
      case TokenType.COLON:
        return;
      default:
        this.onValueStart(token, offset);
    }
  }

  private onValueStart(token: TokenType, offset: number): void {
    if (this.depth === 0) {
      if (token !== TokenType.LEFT_BRACE) throw notTheShape();
    } else if (this.depth === 1 && this.key === 'profiles') {
      if (this.profilesSeen) {
        throw new BatchRejectedError(`The JSON body has "profiles" more than once; send one array. ${SHAPE}`);
      }
      this.profilesSeen = true;
      if (token !== TokenType.LEFT_BRACKET) throw notTheShape();
      this.inProfiles = true;
      this.segmentStart = offset;
    } else if (this.depth === 2 && this.inProfiles) {
      this.segmentStart = offset;
    }
  }

  private openContainer(isObject: boolean): void {
    this.isObjectAt[this.depth] = isObject;
    this.expectKeyAt[this.depth] = isObject;
    if (this.depth === 3) {
      this.elementKeys.clear();
      this.elementKey = null;
    } else if (this.depth === 4) {
      this.inAttributes = isObject && this.elementKey === 'attributes';
      if (this.inAttributes) this.attributeKeys.clear();
    }
  }

  /** A key inside an element; deeper than its "attributes", the row fails anyway. */
  private onElementKey(name: string): void {
    this.expectKeyAt[this.depth] = false;
    let keys: Set<string>;
    if (this.depth === 3) {
      this.elementKey = name;
      keys = this.elementKeys;
    } else if (this.depth === 4 && this.inAttributes) {
      keys = this.attributeKeys;
    } else {
      return;
    }
    if (keys.has(name)) this.repeated ??= { name, inAttributes: this.depth === 4 };
    else keys.add(name);
  }

  private onProfile(element: unknown): void {
    if (++this.rows > this.limits.maxRows) throw tooManyRows(this.limits);
    const item = readProfile(element, this.rows);
    const repeated = this.repeated;
    this.repeated = null;
    this.out.push(repeated === null ? item : repeatedKeyFailure(item, repeated.name, repeated.inAttributes));
    this.segmentStart = this.lastOffset;
  }
}
