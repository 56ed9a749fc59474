/**
 * Line and character of a text offset, as VS Code counts them (a line ends at `\r\n`, `\n` or
 * `\r`), for diagnostics on files that are not open: there is no TextDocument to ask.
 */

/** A zero-based line and UTF-16 character. */
export interface LineCharacter {
  line: number;
  character: number;
}

/** Converts offsets of one text to positions; build once per text. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 /* \r */) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      } else if (c === 10 /* \n */) {
        this.starts.push(i + 1);
      }
    }
  }

  /** The position of `offset`. */
  positionAt(offset: number): LineCharacter {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low, character: offset - (this.starts[low] as number) };
  }
}
