/**
 * A bounded map whose entries expire: where the ops server keeps the API server's answers about
 * a caller for a few seconds (delegated-auth.ts). Bounded because the keys come from requests:
 * anyone who reaches the port can send new tokens, and memory must not grow with them.
 */
import type { Clock } from "../runtime/clock.js";

export interface ExpiringCacheOptions {
  readonly clock: Clock;
  /** How long an entry is served after it was set. */
  readonly ttlMs: number;
  /** Past this many entries, the least recently used one is dropped. */
  readonly maxEntries: number;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

export class ExpiringCache<V> {
  // A Map iterates in insertion order: re-inserting on each hit keeps the least recently used
  // entry first, which is the one to drop when full.
  private readonly entries = new Map<string, Entry<V>>();
  private readonly options: ExpiringCacheOptions;

  constructor(options: ExpiringCacheOptions) {
    this.options = options;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, unless it is absent or expired (an expired entry is dropped). */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.options.clock.now() >= entry.expiresAt) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: this.options.clock.now() + this.options.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
