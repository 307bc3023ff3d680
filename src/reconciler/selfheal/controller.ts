import { errorMessage } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import type { KubeObject, ObjectRef } from "../../kube/objects.js";
import type { Clock } from "../../runtime/clock.js";
import { runWorkers } from "../../runtime/controller.js";
import { WorkQueue } from "../../runtime/queue.js";
import type { ReconcileResult } from "../../runtime/result.js";
import type { Metrics } from "../../telemetry/metrics.js";
import type { Logger } from "../../telemetry/log.js";
import type { DesiredStateStore } from "../desired-store.js";
import { desiredKey, type DesiredObject } from "../desired.js";
import { gitSyncEvents } from "../events.js";
import type { GitSyncObject } from "../gitsync.js";
import { DriftReport } from "./drift-report.js";
import { FightTracker, type FightSettings } from "./fights.js";
import { healObject, syncShape, type HealContext } from "./heal.js";
import { selfHealMetrics } from "./metrics.js";
import { KindWatches } from "./watches.js";

export interface SelfHealDeps {
  /** The reconciler's client: heals are applied as the reconciler identity. */
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly store: DesiredStateStore;
  readonly lookup: (namespace: string, name: string) => GitSyncObject | undefined;
  /** The client a GitSync's heals go out as (its service account); absent: kube. */
  readonly clientFor?: (gitSync: string) => KubeClient;
  readonly workers: number;
  readonly fights: FightSettings;
}

/**
 * Self-heal: watches every kind in the inventories and, when an inventoried object changes out
 * of band, re-applies what Git says at once (a watch event and one apply), or reports why not.
 * A GitSync being synced holds its objects' heals until the sync ends (its own applies and
 * prunes are not drift). Built per leadership term; run() does the work.
 */
export class SelfHealer {
  private readonly deps: SelfHealDeps;
  private readonly queue: WorkQueue<string>;
  private readonly watches: KindWatches;
  private readonly context: HealContext;
  private readonly syncing = new Set<string>();
  private readonly parked = new Map<string, Set<string>>();
  private refreshing: Promise<void> = Promise.resolve();

  constructor(deps: SelfHealDeps) {
    this.deps = deps;
    this.queue = new WorkQueue<string>({ clock: deps.clock });
    this.watches = new KindWatches({
      kube: deps.kube,
      clock: deps.clock,
      logger: deps.logger,
      onChange: (obj) => {
        this.changed(obj);
      },
      onRestart: (resource) => {
        deps.metrics.informerRestarts.inc({ resource });
      },
    });
    this.context = {
      kube: deps.kube,
      clock: deps.clock,
      logger: deps.logger,
      store: deps.store,
      lookup: deps.lookup,
      ...(deps.clientFor === undefined ? {} : { clientFor: deps.clientFor }),
      watches: this.watches,
      fights: new FightTracker(deps.fights),
      report: new DriftReport({
        kube: deps.kube,
        logger: deps.logger,
        now: () => deps.clock.now(),
      }),
      metrics: selfHealMetrics(deps.metrics.registry),
      events: gitSyncEvents({ kube: deps.kube, clock: deps.clock, logger: deps.logger }),
      seen: new Map(),
    };
  }

  /** Heals until signal aborts; then stops every watch. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      await runWorkers({
        queue: this.queue,
        reconcile: (key) => this.heal(key),
        workers: this.deps.workers,
        signal,
        clock: this.deps.clock,
        onResult: (key, outcome, _ms, error) => {
          if (error !== undefined)
            this.deps.logger.warn(
              { object: key, outcome, err: errorMessage(error) },
              "self-heal failed",
            );
        },
      });
    } finally {
      this.queue.shutDown();
      await this.queue.drain();
      await this.refreshing;
      await this.watches.stop();
    }
  }

  /** A sync of gitSync ("namespace/name") starts: its objects' changes wait for its end. */
  syncStarted(gitSync: string): void {
    this.syncing.add(gitSync);
  }

  /** The sync ended: the watched kinds follow the inventories, and held objects are looked at. */
  syncEnded(gitSync: string): Promise<void> {
    this.syncing.delete(gitSync);
    for (const key of this.parked.get(gitSync) ?? []) this.queue.add(key);
    this.parked.delete(gitSync);
    return this.refresh();
  }

  /** What a sync of gitSync applies for obj (ignored fields someone else changed left out). */
  shape(gitSync: GitSyncObject, obj: DesiredObject): KubeObject {
    return syncShape(this.context, gitSync, obj);
  }

  /** The watched copy of an object; undefined until its kind's first list is in. */
  cached(ref: ObjectRef): KubeObject | undefined {
    if (!this.watches.synced(ref)) return undefined;
    return this.watches.live(ref, ref.namespace, ref.name);
  }

  /** The GitSync is gone: forget its Drifted notes. */
  forget(gitSync: string): void {
    this.context.report.forget(gitSync);
  }

  private refresh(): Promise<void> {
    this.refreshing = this.refreshing
      .then(() => this.watches.set(this.deps.store.types()))
      .catch((err: unknown) => {
        this.deps.logger.warn({ err: errorMessage(err) }, "self-heal watches not updated");
      });
    return this.refreshing;
  }

  private changed(obj: KubeObject): void {
    const key = desiredKey({
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name ?? "",
    });
    if (this.deps.store.ownerOf(key) === undefined) return;
    if (!this.context.seen.has(key)) this.context.seen.set(key, this.deps.clock.now());
    this.queue.add(key);
  }

  private async heal(key: string): Promise<ReconcileResult> {
    const owner = this.deps.store.ownerOf(key);
    if (owner !== undefined && this.syncing.has(owner.gitSync)) {
      const held = this.parked.get(owner.gitSync) ?? new Set<string>();
      held.add(key);
      this.parked.set(owner.gitSync, held);
      return {};
    }
    return healObject(this.context, key);
  }
}
