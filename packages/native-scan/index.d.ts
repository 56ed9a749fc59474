/**
 * Reads every file on `threads` threads and classes it, one byte per file: 0 holds none of the
 * needles, 1 holds one (each needle is searched from the byte at its anchor index), 2 binary (a
 * NUL in its first `sniffBytes`), 3 over `maxFileBytes`, 4 unreadable.
 */
export declare function prefilter(
  paths: readonly string[],
  needles: readonly Buffer[],
  anchors: readonly number[],
  maxFileBytes: number,
  sniffBytes: number,
  threads: number,
): Promise<Uint8Array>;
