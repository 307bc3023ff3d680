import { errorMessage } from "../errors.js";
import type { Clock } from "../runtime/clock.js";
import type { KubeClient, ListOptions } from "./client.js";
import { keyOf, type KubeObject, type TypeRef } from "./objects.js";
import { collectionPath } from "./paths.js";
import { METADATA_WATCH, watchOnce, type WatchEvent } from "./watch.js";

export type InformerEvent = "add" | "update" | "delete";
export type InformerHandler<T> = (obj: T, old?: T) => void;

export interface InformerOptions<T extends KubeObject = KubeObject> extends ListOptions {
  readonly client: KubeClient;
  readonly type: TypeRef;
  readonly clock: Clock;
  /** Called on every failure before the informer backs off and relists. */
  readonly onError?: (err: unknown, attempt: number) => void;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Server-side watch timeout; the watch is resumed from its last resourceVersion after it. */
  readonly watchTimeoutSeconds?: number;
  /**
   * Applied to every object from the API server before it is cached or handed to a handler, so
   * the cache holds only what its readers need (controller-runtime's cache transform): a cache
   * of thousands of objects need not keep what nobody reads. It may change its argument (each
   * object is parsed afresh from the server) and must keep metadata's name, namespace and
   * resourceVersion.
   */
  readonly transform?: (obj: T) => T;
}

/**
 * A list-watch cache of one kind. Unlike client-node's ListWatch, which stops for good on any
 * error other than 410, it restarts on every failure with capped exponential backoff (1 s to
 * 30 s) and relists, so after an outage the cache and the handlers see every change (deletes
 * included) that happened meanwhile. With metadataOnly, the watch asks for metadata only too
 * (PartialObjectMetadata), so no object's data or spec ever reaches the cache.
 */
export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: Record<InformerEvent, Set<InformerHandler<T>>> = {
    add: new Set(),
    update: new Set(),
    delete: new Set(),
  };
  private readonly syncWaiters = new Set<() => void>();
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private hasSynced = false;

  private readonly opts: InformerOptions<T>;

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
  }

  on(event: InformerEvent, handler: InformerHandler<T>): () => void {
    this.handlers[event].add(handler);
    return () => this.handlers[event].delete(handler);
  }

  start(): void {
    if (this.loop !== undefined) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
    for (const wake of this.syncWaiters) wake();
  }

  /** True once the first list has filled the cache. */
  synced(): boolean {
    return this.hasSynced;
  }

  /** Resolves when synced, or when the informer stops. */
  waitForSync(): Promise<void> {
    if (this.hasSynced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.add(resolve));
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(keyOf({ namespace, name }));
  }

  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  private async run(signal: AbortSignal): Promise<void> {
    const backoff = this.opts.backoff ?? { initialMs: 1000, maxMs: 30_000 };
    let failures = 0;
    // A function, not the property: TypeScript would keep the loop condition's narrowing.
    const stopped = (): boolean => signal.aborted;
    while (!stopped()) {
      try {
        await this.listAndWatch(signal, () => (failures = 0));
      } catch (err: unknown) {
        if (stopped()) break;
        failures++;
        this.opts.onError?.(err, failures);
        await this.opts.clock.sleep(
          Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1)),
          signal,
        );
      }
    }
  }

  /**
   * Lists into the cache; returns the list's resourceVersion. In a frame of its own: as a
   * local of listAndWatch, suspended while it watches, the list as the server sent it (before
   * the transform) would stay alive until the next relist.
   */
  private async relist(signal: AbortSignal): Promise<string> {
    const { items, resourceVersion } = await this.opts.client.list<T>(this.opts.type, {
      ...this.opts,
      signal,
    });
    const { transform } = this.opts;
    this.replace(transform === undefined ? items : items.map((o) => transform(o)));
    return resourceVersion;
  }

  private async listAndWatch(signal: AbortSignal, onHealthy: () => void): Promise<void> {
    let rv = await this.relist(signal);
    const resource = await this.opts.client.resource(this.opts.type);
    const path = collectionPath(resource, this.opts.namespace);
    for (;;) {
      const end = await watchOnce({
        rest: this.opts.client.rest,
        path,
        resourceVersion: rv,
        signal,
        query: { labelSelector: this.opts.labelSelector, fieldSelector: this.opts.fieldSelector },
        ...(this.opts.metadataOnly === true ? { accept: METADATA_WATCH } : {}),
        timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 60),
        onEvent: (event) => {
          onHealthy();
          this.apply(event);
        },
      });
      if (signal.aborted || end.expired) return;
      rv = end.lastResourceVersion;
    }
  }

  /** Swaps in a fresh list, telling handlers what changed since the last one. */
  private replace(items: T[]): void {
    const fresh = new Map(
      items.map((o) => [
        keyOf({ namespace: o.metadata.namespace, name: o.metadata.name ?? "" }),
        o,
      ]),
    );
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit("delete", old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (old === undefined) this.emit("add", obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion)
        this.emit("update", obj, old);
    }
    if (!this.hasSynced) {
      this.hasSynced = true;
      for (const wake of this.syncWaiters) wake();
      this.syncWaiters.clear();
    }
  }

  private apply(event: WatchEvent): void {
    if (event.type === "BOOKMARK") return;
    const full = {
      ...event.object,
      apiVersion: this.opts.type.apiVersion,
      kind: this.opts.type.kind,
    } as T;
    const obj = this.opts.transform?.(full) ?? full;
    const key = keyOf({ namespace: obj.metadata.namespace, name: obj.metadata.name ?? "" });
    const old = this.cache.get(key);
    if (event.type === "DELETED") {
      this.cache.delete(key);
      this.emit("delete", obj);
      return;
    }
    this.cache.set(key, obj);
    if (old === undefined) this.emit("add", obj);
    else this.emit("update", obj, old);
  }

  private emit(event: InformerEvent, obj: T, old?: T): void {
    for (const handler of this.handlers[event]) {
      try {
        handler(obj, old);
      } catch (err: unknown) {
        // A handler's bug must not stop the cache from following the API server.
        this.opts.onError?.(new Error(`informer ${event} handler failed: ${errorMessage(err)}`), 0);
      }
    }
  }
}
