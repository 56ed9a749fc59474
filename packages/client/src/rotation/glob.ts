/**
 * A small glob matcher for paths with `/` separators: `**`, `*`, `?`, `[…]` and `{a,b}` braces
 * (nested too). A pattern without `/` matches a name at any depth, as in `.gitignore`.
 * Written here rather than taken from a package so core depends on nothing for it.
 */

/** Directories never walked unless asked for: dependencies, VCS data and build output. */
export const DEFAULT_EXCLUDES: readonly string[] = ['**/{node_modules,.git,dist,out,build}/**'];

const MAGIC = /[*?[{]/;

/** True when `pattern` has glob characters (else it names one path). */
export function isGlob(pattern: string): boolean {
  return MAGIC.test(pattern);
}

function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

function translate(pattern: string, start: number, inBrace: boolean): { source: string; end: number } {
  let source = '';
  let i = start;
  const alternatives: string[] = [];
  while (i < pattern.length) {
    const char = pattern[i] as string;
    if (char === '\\' && i + 1 < pattern.length) {
      source += escapeRegExp(pattern[i + 1] as string);
      i += 2;
    } else if (char === '*') {
      if (pattern[i + 1] === '*') {
        const atSegmentStart = i === 0 || pattern[i - 1] === '/';
        if (atSegmentStart && pattern[i + 2] === '/') {
          source += '(?:[^/]*/)*';
          i += 3;
        } else {
          source += '.*';
          i += 2;
        }
      } else {
        source += '[^/]*';
        i += 1;
      }
    } else if (char === '?') {
      source += '[^/]';
      i += 1;
    } else if (char === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        i += 1;
      } else {
        let body = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        source += `[${body}]`;
        i = close + 1;
      }
    } else if (char === '{') {
      const inner = translate(pattern, i + 1, true);
      source += inner.source;
      i = inner.end;
    } else if (inBrace && char === ',') {
      alternatives.push(source);
      source = '';
      i += 1;
    } else if (inBrace && char === '}') {
      alternatives.push(source);
      return { source: `(?:${alternatives.join('|')})`, end: i + 1 };
    } else {
      source += escapeRegExp(char);
      i += 1;
    }
  }
  if (inBrace) {
    // An unclosed brace is a literal `{` followed by what came after it.
    alternatives.push(source);
    return { source: `\\{${alternatives.join(',')}`, end: i };
  }
  return { source, end: i };
}

/** Compiles a glob into a RegExp matching whole `/`-separated relative paths. */
export function globToRegExp(pattern: string): RegExp {
  let normalized = pattern.replace(/\\(?![*?[\]{}!,\\])/g, '/').replace(/^\.\//, '');
  if (!normalized.includes('/')) normalized = `**/${normalized}`;
  return new RegExp(`^${translate(normalized, 0, false).source}$`);
}

/** The part of a glob before its first segment with glob characters (`src/**\/*.ts` → `src`). */
export function globBase(pattern: string): string {
  const segments = pattern.replace(/\\/g, '/').split('/');
  const fixed: string[] = [];
  for (const segment of segments.slice(0, -1)) {
    if (isGlob(segment)) break;
    fixed.push(segment);
  }
  return fixed.join('/');
}

/** Matches paths against a list of globs. */
export class GlobSet {
  private readonly patterns: RegExp[];

  constructor(globs: readonly string[]) {
    this.patterns = globs.map(globToRegExp);
  }

  /** True when the relative file path matches one of the globs. */
  matchesFile(relativePath: string): boolean {
    return this.patterns.some((re) => re.test(relativePath));
  }

  /** True when everything under the relative directory path is matched, so it need not be walked. */
  matchesDirectory(relativePath: string): boolean {
    return this.patterns.some((re) => re.test(relativePath) || re.test(`${relativePath}/`));
  }
}
