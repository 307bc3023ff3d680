/**
 * Changes to Secrets as they happen, as metadata only and without a cache: each event is
 * handed to the handlers and dropped, so a cluster's Secrets cost nothing here however many
 * there are, only their changes do. There is no list: the watch starts at the collection's
 * current resourceVersion (read with limit=1), so the state before it needs another source
 * (the secrets controller reconciles every SealedSecret when it starts, reading its Secret
 * whole). After a gap (a failure, an expired resourceVersion, the first start) the resync
 * handlers run, since changes may have been missed.
 */
import type { KubeClient } from "../kube/client.js";
import type { KubeObject } from "../kube/objects.js";
import { collectionPath } from "../kube/paths.js";
import { METADATA_WATCH, watchOnce, type WatchEvent } from "../kube/watch.js";
import type { Clock } from "../runtime/clock.js";
import { SECRET } from "./names.js";

const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

export interface SecretChangesOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  /** One namespace; default every namespace. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  /** Called on every failure before the watch backs off (1 s to 30 s) and starts again. */
  readonly onError?: (err: unknown, attempt: number) => void;
}

export type SecretChangeHandler = (secret: KubeObject) => void;

export class SecretChanges {
  private readonly changeHandlers = new Set<SecretChangeHandler>();
  private readonly resyncHandlers = new Set<() => void>();
  private readonly syncWaiters = new Set<() => void>();
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private watching = false;
  private readonly opts: SecretChangesOptions;

  constructor(opts: SecretChangesOptions) {
    this.opts = opts;
  }

  /** A Secret was added, changed or deleted: its metadata (name, labels, owners...). */
  onChange(handler: SecretChangeHandler): () => void {
    this.changeHandlers.add(handler);
    return () => this.changeHandlers.delete(handler);
  }

  /** The watch (re)started: changes made before it, or during a gap, were not seen. */
  onResync(handler: () => void): () => void {
    this.resyncHandlers.add(handler);
    return () => this.resyncHandlers.delete(handler);
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
    this.wakeWaiters();
  }

  /** True once the first watch started: every change from then on is seen. */
  synced(): boolean {
    return this.watching;
  }

  /** Resolves when synced, or when the watch stops. */
  waitForSync(): Promise<void> {
    if (this.watching) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.add(resolve));
  }

  private wakeWaiters(): void {
    for (const wake of this.syncWaiters) wake();
    this.syncWaiters.clear();
  }

  private async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    const stopped = (): boolean => signal.aborted;
    while (!stopped()) {
      try {
        await this.watchFromNow(signal, () => (failures = 0));
      } catch (err: unknown) {
        if (stopped()) break;
        failures++;
        this.opts.onError?.(err, failures);
        await this.opts.clock.sleep(Math.min(30_000, 1000 * 2 ** (failures - 1)), signal);
      }
    }
  }

  /** Watches from the current resourceVersion until it expires (410) or the signal aborts. */
  private async watchFromNow(signal: AbortSignal, onHealthy: () => void): Promise<void> {
    const path = collectionPath(await this.opts.client.resource(SECRET), this.opts.namespace);
    const query = { labelSelector: this.opts.labelSelector };
    const list = await this.opts.client.rest.json<{ metadata?: { resourceVersion?: string } }>({
      method: "GET",
      path,
      query: { ...query, limit: 1 },
      accept: METADATA_LIST,
      signal,
    });
    let rv = list.metadata?.resourceVersion ?? "";
    this.watching = true;
    this.wakeWaiters();
    this.emit(this.resyncHandlers, undefined);
    for (;;) {
      const end = await watchOnce({
        rest: this.opts.client.rest,
        path,
        resourceVersion: rv,
        signal,
        query,
        accept: METADATA_WATCH,
        timeoutSeconds: 300 + Math.floor(Math.random() * 60),
        onEvent: (event) => {
          onHealthy();
          this.onEvent(event);
        },
      });
      if (signal.aborted || end.expired) return;
      rv = end.lastResourceVersion;
    }
  }

  private onEvent(event: WatchEvent): void {
    if (event.type === "BOOKMARK") return;
    this.emit(this.changeHandlers, { ...event.object, apiVersion: "v1", kind: "Secret" });
  }

  private emit<A>(handlers: ReadonlySet<(arg: A) => void>, arg: A): void {
    for (const handler of handlers) {
      try {
        handler(arg);
      } catch (err: unknown) {
        // A handler's bug must not end the watch.
        this.opts.onError?.(err, 0);
      }
    }
  }
}
