import { BatchRejectedError } from '../errors';
import {
  attributeNameProblem,
  attributeValueProblem,
  normalizeAttributeName,
  profileIdProblem,
  shownName,
} from '../profiles/rules';
import type { BatchKey } from '../profiles/types';
import { BATCH_SHAPE_LIMITS, cellTooLarge, headerTooWide, lineTooLarge, maxRowCells, rowTooWide } from './bounds';
import { countNewlines, decodeFormCell, tooManyRows } from './text';
import type { BatchLimits, ParsedRow, RowFailure } from './types';

type Item = ParsedRow | RowFailure;

/**
 * Turns the records of a CSV or form body into rows: reads the header, then checks every row
 * against it. Also tells the splitters how wide the record being read may grow.
 */
export class RowReader {
  /** Records received (header, rows and whitespace-only lines). */
  private records = 0;
  /** `\n` characters inside the fields of the records received (quoted line breaks). */
  private innerNewlines = 0;
  private kind: BatchKey['kind'] | null = null;
  /** Attribute name of each column after the id column. */
  private names: string[] = [];
  /** Data rows seen, failed ones included. */
  dataRows = 0;

  constructor(
    private readonly form: boolean,
    private readonly limits: BatchLimits,
    private readonly out: Item[],
  ) {}

  /**
   * 1-based line where the next record starts: every record before it (blank lines are records
   * too) took one line plus the line breaks quoted inside it.
   */
  lineOf(): number {
    return 1 + this.records + this.innerNewlines;
  }

  /** Most cells the record being read may have: the header's limit, then the header's width plus a margin. */
  maxCells(): number {
    return this.kind === null ? BATCH_SHAPE_LIMITS.maxHeaderColumns : maxRowCells(this.names.length + 1);
  }

  /** The whole-batch error of the record being read when it has more than `maxCells()` cells. */
  tooWide(): BatchRejectedError {
    const line = this.lineOf();
    return this.kind === null ? headerTooWide(line) : rowTooWide(this.names.length + 1, line);
  }

  /** The whole-batch error of the record being read when it is over `BATCH_SHAPE_LIMITS.maxRecordChars`. */
  tooLong(): Error {
    return lineTooLarge(this.lineOf());
  }

  accept(record: string[]): void {
    const cells = record.length;
    if (cells > this.maxCells()) throw this.tooWide();
    const line = this.lineOf();
    this.records++;
    const maxCellChars = BATCH_SHAPE_LIMITS.maxCellChars;
    for (let i = 0; i < cells; i++) {
      // The limit is on the value as read, so a form cell is decoded first (its raw text is bounded by the line's).
      const cell = this.form ? decodeFormCell(record[i], line) : record[i];
      if (cell.length > maxCellChars) throw cellTooLarge(line);
      if (!this.form && cell.indexOf('\n') !== -1) this.innerNewlines += countNewlines(cell);
      record[i] = cell;
    }
    if (isBlank(record)) return;
    const kind = this.kind;
    if (kind === null) {
      this.readHeader(record, line);
      return;
    }
    if (++this.dataRows > this.limits.maxRows) throw tooManyRows(this.limits);
    this.out.push(this.readRow(kind, record, line));
  }

  private readHeader(record: string[], line: number): void {
    // Header cells are trimmed: Adobe's older sample writes `batch=pcId, param1, param2`. A BOM
    // left inside the body (a file saved with one, after a hand-written "batch=") is not part of the name.
    const cells = record.map(trimSpaces);
    const first = cells[0].charCodeAt(0) === 0xfeff ? trimSpaces(cells[0].slice(1)) : cells[0];
    const lower = first.toLowerCase();
    const kind = lower === 'pcid' ? 'pcId' : lower === 'thirdpartyid' ? 'thirdPartyId' : null;
    if (kind === null) {
      throw new BatchRejectedError(
        `The first column of the header must be "pcId" or "thirdPartyId", not ${JSON.stringify(shorten(first))}${this.encodedHint(first)}`,
        line,
      );
    }
    if (cells.length < 2) {
      throw new BatchRejectedError(
        'The header has no attribute columns; list the attribute names after the id column, separated by commas',
        line,
      );
    }
    const names: string[] = [];
    const seen = new Set<string>();
    for (let i = 1; i < cells.length; i++) {
      const name = normalizeAttributeName(cells[i]);
      const problem = attributeNameProblem(name);
      if (problem !== null) throw new BatchRejectedError(`Header column ${i + 1}: ${problem}`, line);
      if (seen.has(name)) {
        throw new BatchRejectedError(
          `Attribute "${shownName(name)}" appears more than once in the header; keep one column per attribute`,
          line,
        );
      }
      seen.add(name);
      names.push(name);
    }
    this.kind = kind;
    this.names = names;
  }

  /** A form body URL-encoded as a whole (commas and newlines as %2C and %0A) has a one-cell header. */
  private encodedHint(first: string): string {
    if (!this.form || (first.indexOf(',') === -1 && first.indexOf('\n') === -1)) return '';
    return '; the batch file looks URL-encoded as a whole: keep its commas and line breaks literal and URL-encode each cell';
  }

  private readRow(kind: BatchKey['kind'], cells: string[], line: number): Item {
    const id = cells[0];
    const names = this.names;
    if (cells.length > names.length + 1) {
      return failure(line, id, `Row has ${cells.length} cells; the header has ${names.length + 1} columns`);
    }
    const key: BatchKey = { kind, id };
    const idProblem = profileIdProblem(key);
    if (idProblem !== null) return failure(line, id, idProblem);
    const attributes: Record<string, string> = {};
    for (let i = 1; i < cells.length; i++) {
      const value = cells[i];
      if (value === '') continue;
      const name = names[i - 1];
      const problem = attributeValueProblem(name, value);
      if (problem !== null) return failure(line, id, problem);
      attributes[name] = value;
    }
    return { type: 'row', line, update: { key, attributes } };
  }
}

/** A header cell without the spaces and tabs around it. */
function trimSpaces(cell: string): string {
  return cell.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** A line whose cells are all empty or whitespace (as spreadsheets write below the data) is skipped. */
function isBlank(cells: string[]): boolean {
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell !== '' && cell.trim() !== '') return false;
  }
  return true;
}

function failure(line: number, id: string, message: string): RowFailure {
  return { type: 'failure', line, id, message };
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
