import { availableParallelism } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { anchorOf } from './byte-search';
import { BINARY_SNIFF_BYTES, makeScanner, scanFile, type Outcome, type ScanSpec, type Scanner } from './scan';

/**
 * Scans a selection of files. Reading thousands of small files is mostly open/read/close system
 * calls; Node makes them one at a time on one thread, with a cost per call. When the optional
 * native prefilter (@profilegate/native-scan) is installed, it reads the files on a few threads
 * and says which may hold a token; only those are read again and treated here. Without it, every
 * file is scanned here. Internal: not exported by the package.
 */

/** The native prefilter's interface (packages/native-scan; only its types are needed to build). */
type NativeScan = typeof import('@profilegate/native-scan');

/** What the prefilter's classes mean; undefined: a candidate (1), scanned again here. */
const CLASS_OUTCOMES: ReadonlyArray<Outcome | undefined> = [null, undefined, 'binary', 'too-large', 'unreadable'];

/** Knobs of the scan (tests change them to compare the two ways). */
export const scanTuning = {
  /** Use the native prefilter when it is installed (PROFILEGATE_NATIVE_SCAN=0 turns it off). */
  native: process.env.PROFILEGATE_NATIVE_SCAN !== '0',
  /** Fewest files for which the prefilter pays for its start. */
  nativeMinFiles: 64,
  /** Files per prefilter call: progress is reported after each, and a walk starts them as it goes. */
  nativeSliceFiles: 2048,
};

/** Longest stretch, in ms, of scanning before the calling thread lets its event loop run. */
const SLICE_MS = 20;

let loaded: NativeScan | null | undefined;

/** The native prefilter, or null when it is not installed or was not built. */
export function nativeScan(): NativeScan | null {
  if (loaded === undefined) {
    try {
      // Optional: not installed in bundles (the VS Code extension) nor where it could not be built.
      loaded = require('@profilegate/native-scan') as NativeScan;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/**
 * One scan of a selection. With the native prefilter, files are read on its threads slice by
 * slice, starting while the tree is still walked (offer), and only the candidates are read here.
 */
export class FileScan {
  private readonly scanner: Scanner;
  private readonly native: NativeScan | null;
  /** The list the prefilter started on (it only grows), and its slices started so far. */
  private offered: readonly string[] | null = null;
  private readonly slices: Array<Promise<Uint8Array | null>> = [];
  /** The last slice started: the next waits for it, so that slices never share the threads. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(spec: ScanSpec) {
    this.scanner = makeScanner(spec);
    this.native = scanTuning.native ? nativeScan() : null;
  }

  /** Files found so far by a walk, in an array that only grows: whole slices start reading now. */
  offer(found: readonly string[]): void {
    if (!this.native || (this.offered !== null && this.offered !== found)) return;
    this.offered = found;
    const size = scanTuning.nativeSliceFiles;
    while ((this.slices.length + 1) * size <= found.length) this.startSlice(found, this.slices.length * size);
  }

  /**
   * Scans `files`, calling `report` once for each file with its index and outcome, in order.
   * `report` may throw: the scan stops there; it may return a promise: the scan waits for it.
   */
  async run(
    files: readonly string[],
    report: (index: number, outcome: Outcome) => Promise<void> | undefined,
  ): Promise<void> {
    let sliceStart = performance.now();
    const pause = async () => {
      if (performance.now() - sliceStart >= SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    };
    if (!this.native || files.length < scanTuning.nativeMinFiles) {
      for (let index = 0; index < files.length; index++) {
        const wait = report(index, scanFile(files[index]!, this.scanner));
        if (wait) await wait;
        await pause();
      }
      return;
    }
    // Slices started on another list (the walk's, before links changed it) do not count.
    if (files !== this.offered) this.slices.length = 0;
    this.offered = files;
    const size = scanTuning.nativeSliceFiles;
    for (let slice = 0; slice * size < files.length; slice++) {
      // The next slice is read on the native threads while this one is treated here.
      while (this.slices.length <= slice + 1 && this.slices.length * size < files.length) {
        this.startSlice(files, this.slices.length * size);
      }
      const classes = await this.slices[slice]!;
      const start = slice * size;
      const end = Math.min(start + size, files.length);
      for (let index = start; index < end; index++) {
        // No class (the prefilter failed) or a candidate: the file is scanned here.
        const outcome = classes ? CLASS_OUTCOMES[classes[index - start]!] : undefined;
        if (outcome !== undefined) {
          report(index, outcome);
        } else {
          const wait = report(index, scanFile(files[index]!, this.scanner));
          if (wait) await wait;
          await pause();
        }
      }
    }
  }

  private startSlice(files: readonly string[], start: number): void {
    const paths = files.slice(start, start + scanTuning.nativeSliceFiles);
    const { needles, maxFileBytes } = this.scanner;
    // Threads waiting on reads leave the CPU to others: one more than the cores, as measured best.
    const threads = Math.min(8, availableParallelism() + 1);
    const native = this.native!;
    const classes = this.tail.then(() =>
      native
        .prefilter(paths, needles, needles.map(anchorOf), maxFileBytes, BINARY_SNIFF_BYTES, threads)
        .catch(() => null),
    );
    this.tail = classes;
    this.slices.push(classes);
  }
}
