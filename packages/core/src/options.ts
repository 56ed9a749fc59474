/**
 * A factory's options are wrong: a programming error, thrown when the factory is called (at
 * start-up), never on a request. The message starts with the factory and the option as the
 * caller spelled them: `profileApi: cacheMs must be …`.
 */
export class OptionsError extends TypeError {
  /** The factory the caller called (`profileApi`, `requireProfileToken`, `TokenService`…). */
  readonly factory: string;
  /** The option as the caller spelled it (`cacheMs`, `limits.maxRows`, `keys[1].key`). */
  readonly option: string;

  constructor(factory: string, option: string, problem: string) {
    super(`${factory}: ${option} ${problem}`);
    this.name = 'OptionsError';
    this.factory = factory;
    this.option = option;
  }
}

/** Bounds of a number option; a missing option (undefined, never null) takes `fallback`. */
export interface NumberBounds {
  fallback: number;
  min?: number;
  max?: number;
  /** Whole numbers only (default true). */
  whole?: boolean;
  /** Says what the number counts, for the message (e.g. "milliseconds"). */
  unit?: string;
}

/**
 * The checks of one factory's options, each failing with an OptionsError that names the factory
 * and the option: `const check = new OptionChecks('profileApi'); check.object(options); …`.
 */
export class OptionChecks {
  constructor(readonly factory: string) {}

  /** Throws the OptionsError of `option`. */
  fail(option: string, problem: string): never {
    throw new OptionsError(this.factory, option, problem);
  }

  /** The options argument itself must be an object. */
  object(options: unknown): asserts options is object {
    if (typeof options !== 'object' || options === null) this.fail('options', 'must be an object');
  }

  /** An object with every method in `methods` (a Store, or the part of one a factory uses). */
  methods(option: string, value: unknown, methods: readonly string[], problem: string): void {
    const missing = methods.filter(
      (m) => typeof value !== 'object' || value === null || typeof (value as Record<string, unknown>)[m] !== 'function',
    );
    if (missing.length > 0) this.fail(option, problem);
  }

  /** An instance of `type` (a KeyRing, an AuditLog); undefined when optional and left out. */
  instance<T>(option: string, value: unknown, type: abstract new (...args: never[]) => T, problem: string): T {
    if (!(value instanceof type)) this.fail(option, problem);
    return value;
  }

  /** A function, or `fallback` when left out (undefined). */
  func<T extends (...args: never[]) => unknown>(option: string, value: unknown, fallback: T): T {
    if (value === undefined) return fallback;
    if (typeof value !== 'function') this.fail(option, 'must be a function, or left out');
    return value as T;
  }

  /** A finite number within bounds (whole unless `whole: false`), or the fallback when left out. */
  number(option: string, value: unknown, bounds: NumberBounds): number {
    if (value === undefined) return bounds.fallback;
    const { min = 0, max = Number.MAX_SAFE_INTEGER, whole = true, unit } = bounds;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      value >= min &&
      value <= max &&
      (!whole || Number.isSafeInteger(value));
    if (!ok) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      const kind = whole ? 'a whole number' : 'a number';
      this.fail(option, `must be ${kind}${unit ? ` of ${unit}` : ''} ${range} (default ${bounds.fallback})`);
    }
    return value;
  }
}
