import { errorMessage } from "../errors.js";
import type { KubeClient } from "../kube/client.js";
import { Informer } from "../kube/informer.js";
import { keyOf, type KubeObject } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";
import type { WatchedKind } from "./audit-object.js";
import { resolveKind } from "./kinds.js";
import { kindId, type KindRef } from "./scope.js";

export interface WatchSetDeps {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called with "group/Kind" and "namespace/name" for every add, update and delete. */
  readonly onChange: (kind: string, key: string) => void;
  readonly onInformerError?: (resource: string) => void;
}

/**
 * One informer per guarded or inventoried kind, started as policies and inventories name new
 * kinds. Kinds are never dropped while running: a kind leaving the scope costs only a cache.
 */
export class WatchSet {
  readonly kinds = new Map<string, WatchedKind>();
  private readonly resolving = new Set<string>();
  private readonly deps: WatchSetDeps;

  constructor(deps: WatchSetDeps) {
    this.deps = deps;
  }

  /** Starts informers for kinds not watched yet; a kind the server does not serve is skipped. */
  async ensure(refs: readonly KindRef[]): Promise<void> {
    await Promise.all(refs.map((ref) => this.ensureOne(ref)));
  }

  synced(): boolean {
    return [...this.kinds.values()].every((k) => k.informer.synced());
  }

  async stop(): Promise<void> {
    await Promise.all([...this.kinds.values()].map((k) => k.informer.stop()));
  }

  private async ensureOne(ref: KindRef): Promise<void> {
    const id = kindId(ref.group, ref.kind);
    if (this.kinds.has(id) || this.resolving.has(id)) return;
    this.resolving.add(id);
    try {
      const resource = await resolveKind(this.deps.kube, ref);
      const informer = new Informer({
        client: this.deps.kube,
        type: { apiVersion: resource.apiVersion, kind: resource.kind },
        clock: this.deps.clock,
        onError: (err: unknown) => {
          this.deps.onInformerError?.(resource.plural);
          this.deps.logger.warn({ err: errorMessage(err), kind: id }, "informer restarting");
        },
      });
      const enqueue = (obj: KubeObject): void => {
        this.deps.onChange(
          id,
          keyOf({ namespace: obj.metadata.namespace, name: obj.metadata.name ?? "" }),
        );
      };
      informer.on("add", enqueue);
      informer.on("update", enqueue);
      informer.on("delete", enqueue);
      this.kinds.set(id, { resource, informer });
      informer.start();
    } catch (err: unknown) {
      this.deps.logger.warn({ err: errorMessage(err), kind: id }, "cannot watch kind");
    } finally {
      this.resolving.delete(id);
    }
  }
}
