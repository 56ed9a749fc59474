/**
 * The part of core that front ends on a developer's machine need (the VS Code extension, the CLI):
 * the typed admin API client, the token-reference scanner, the token claim constants and the
 * client-code rule. It loads no database driver and no JWT library, so a bundler can take it
 * without native modules.
 */
export * from './admin-client';
export * from './rotation';
export * from './tokens/constants';
export { isValidClientCode } from './profiles/rules';
export * from './durations';
export { displayJson, displayText } from './display-text';
