/**
 * The context keys of the `when` clauses in package.json (command palette, walkthrough steps):
 * `profilegate.adminKeyStored` and `profilegate.tokenStored`, for the current server and client.
 * Set with `setContext` whenever the status bar refreshes (after any secret or setting change).
 */
import * as vscode from 'vscode';

/** Sets the context keys, and remembers what it set (for the host tests). */
export class ContextKeys {
  private readonly values = new Map<string, boolean>();

  async set(key: string, value: boolean): Promise<void> {
    if (this.values.get(key) === value) return;
    this.values.set(key, value);
    await vscode.commands.executeCommand('setContext', key, value);
  }

  /** What was last set. */
  current(): Record<string, boolean> {
    return Object.fromEntries(this.values);
  }
}
