/**
 * Per-section tallies of the reliability suite: how many cases each section tried and how many
 * failed. They live on `globalThis` under a registered symbol so that the summary reporter
 * (`scripts/reliability-reporter.cjs`, plain JavaScript in the same process) can print them at
 * the end of the run without importing compiled test code.
 */
import { MODE, SEED } from './mode';

/** The sections of the suite (one test file each). */
export type Section = 'fuzz' | 'token attacks' | 'crash safety' | 'concurrency' | 'load' | 'secrets' | 'hostile shapes';

export interface SectionTally {
  cases: number;
  failures: number;
  /** Compiled test files of the section (the reporter maps failed tests to sections by file). */
  files: string[];
  /** Notes worth printing with the figures (e.g. where the crash trials killed the server). */
  notes: string[];
}

export interface Registry {
  mode: string;
  seed: number;
  sections: Record<string, SectionTally>;
}

const KEY = Symbol.for('profilegate.reliability');

function registry(): Registry {
  const global = globalThis as unknown as Record<symbol, Registry | undefined>;
  return (global[KEY] ??= { mode: MODE, seed: SEED, sections: {} });
}

/** The tally of one section; call once per test file with its `__filename`. */
export function tally(section: Section, file: string): Tally {
  const sections = registry().sections;
  const entry = (sections[section] ??= { cases: 0, failures: 0, files: [], notes: [] });
  if (!entry.files.includes(file)) entry.files.push(file);
  return new Tally(entry);
}

/** Counts cases of one section. */
export class Tally {
  constructor(private readonly entry: SectionTally) {}

  /** Adds `n` cases tried, `failed` of which failed. */
  add(n: number, failed = 0): void {
    this.entry.cases += n;
    this.entry.failures += failed;
  }

  /** Runs one case: counts it, and counts it failed when `check` throws (then rethrows). */
  async check<T>(check: () => T | Promise<T>): Promise<T> {
    this.entry.cases++;
    try {
      return await check();
    } catch (error) {
      this.entry.failures++;
      throw error;
    }
  }

  /** A list of cases that keeps going after a failure; `done()` throws one error naming every failed case. */
  cases(): Cases {
    return new Cases(this);
  }

  /** Adds a line printed under the section's figures. */
  note(text: string): void {
    if (!this.entry.notes.includes(text)) this.entry.notes.push(text);
  }
}

/** Cases run one after the other, each counted; failures are collected, not thrown at once. */
export class Cases {
  private readonly failed: string[] = [];

  constructor(private readonly tally: Tally) {}

  /** Runs one named case; a thrown error marks it failed and is kept for `done()`. */
  async run(name: string, check: () => unknown): Promise<boolean> {
    try {
      await check();
      this.tally.add(1);
      return true;
    } catch (error) {
      this.tally.add(1, 1);
      this.failed.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }

  /** Throws when any case failed (at most 20 named, then a count). */
  done(): void {
    if (this.failed.length === 0) return;
    const shown = this.failed.slice(0, 20).join('\n  ');
    const more = this.failed.length > 20 ? `\n  … and ${this.failed.length - 20} more` : '';
    throw new Error(`${this.failed.length} case(s) failed:\n  ${shown}${more}`);
  }
}
