/**
 * The part of core that front ends on a developer's machine need (the VS Code extension, the CLI):
 * the typed admin API client and the token-reference scanner. It loads no database driver, so a
 * bundler can take it without native modules.
 */
export * from './admin-client';
export * from './rotation';
