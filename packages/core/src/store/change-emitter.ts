import type { StoreChange } from './types';

/** Fan-out of store changes to subscribers; a throwing listener never breaks the others. */
export class ChangeEmitter<T = StoreChange> {
  private readonly listeners = new Set<(change: T) => void>();

  /** Adds a listener; the returned function removes it. */
  subscribe(listener: (change: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells every listener about a change. */
  emit(change: T): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure must not stop the write that caused the change.
      }
    }
  }
}
