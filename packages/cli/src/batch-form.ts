/** Splits CSV text into rows of cells (RFC 4180: quotes, doubled quotes, line breaks in quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        cell += char;
      }
    } else if (char === '"' && cell === '') {
      quoted = true;
    } else if (char === ',') {
      row.push(cell);
      cell = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else {
      cell += char;
    }
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  // Blank lines carry no row.
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

function encodeCell(cell: string): string {
  return encodeURIComponent(cell).replace(/%20/g, '+');
}

/** True when the text is already Adobe's batch form (`batch=` then URL-encoded CSV lines). */
export function isBatchForm(text: string): boolean {
  return text.replace(/^\uFEFF/, '').startsWith('batch=');
}

/**
 * Adobe's batch file from a plain CSV: `batch=` then one line per row, each header and cell
 * URL-encoded (so commas, `&`, `%` and line breaks inside cells survive the form encoding).
 */
export function csvToBatchForm(csv: string): string {
  return `batch=${parseCsv(csv)
    .map((row) => row.map(encodeCell).join(','))
    .join('\n')}\n`;
}
