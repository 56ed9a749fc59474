/**
 * Splits a form body (Adobe's batch file after `batch=`) into records of raw cells. A form has no
 * quoting: every comma separates cells and every line break (`\n` or `\r\n`) ends a record, so a
 * plain split gives what csv-parse gives with `quote: false`, several times faster. Blank lines
 * are records too (the reader counts them as lines and skips them).
 */
export class FormRecords {
  /** Text after the last line break so far, in pieces (a line may span many chunks). */
  private carry: string[] = [];

  constructor(private readonly onRecord: (cells: string[]) => void) {}

  /** Takes the next chunk (whole UTF-8 sequences only), or null at the end of the body. */
  push(data: Buffer | null): void {
    if (data === null) {
      const last = this.carry.join('');
      this.carry = [];
      if (last !== '') this.onRecord(last.split(','));
      return;
    }
    const text = data.toString('utf8');
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      let line = text.slice(start, end);
      if (this.carry.length > 0) {
        this.carry.push(line);
        line = this.carry.join('');
        this.carry = [];
      }
      start = end + 1;
      this.onRecord((line.endsWith('\r') ? line.slice(0, -1) : line).split(','));
    }
    if (start < text.length) this.carry.push(text.slice(start));
  }
}
