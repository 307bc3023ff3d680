import { join } from "node:path";
import type { ComponentContext } from "../component-context.js";
import type { ReconcilerConfig } from "../config.js";
import { errorMessage } from "../errors.js";
import { Informer } from "../kube/informer.js";
import { keyOf } from "../kube/objects.js";
import type { Component } from "../runtime/component.js";
import { runWorkers } from "../runtime/controller.js";
import { WorkQueue } from "../runtime/queue.js";
import { GitSyncActors } from "./actors.js";
import { dependentsOf } from "./dependencies.js";
import { DesiredStateStore } from "./desired-store.js";
import { gitSyncEvents } from "./events.js";
import type { GitSyncObject } from "./gitsync.js";
import { apiReader } from "./health/read.js";
import { GitSyncMetrics, reconcilerMetrics } from "./metrics.js";
import { GITSYNC } from "./names.js";
import { OwnershipIndex } from "./ownership.js";
import { pushRouter } from "./push/routes.js";
import { reconcileGitSync, type ReconcileContext } from "./reconcile.js";
import { SelfHealer } from "./selfheal/controller.js";
import type { SyncEnvironment } from "./sync.js";
import { RenderCache } from "./helm/render-cache.js";

/**
 * The reconciler's settings. workers, concurrency, healWorkers, gitTimeoutMs and the heal-loop
 * ones default to Config's `reconciler` settings (reconcilerOptions); the others are not in
 * Config, and their defaults suit the container image.
 */
export interface ReconcilerOptions {
  /** The kustomize binary: a path, or a name found on searchPath. Default "kustomize". */
  readonly kustomize?: string;
  /** The helm binary (v4): a path, or a name found on searchPath. Default "helm". */
  readonly helm?: string;
  /** The git binary. Default "git". */
  readonly git?: string;
  /** PATH for git, ssh, kustomize and helm (never inherited from the process). */
  readonly searchPath?: string;
  /** GitSyncs reconciled at once (one key is never reconciled twice at once). Default 4. */
  readonly workers?: number;
  /** Server-side applies in flight within one batch. Default 8. */
  readonly concurrency?: number;
  readonly gitTimeoutMs?: number;
  /** How long one kustomize build or helm render may take. */
  readonly kustomizeTimeoutMs?: number;
  /** How long a sync waits in place for Namespaces Active and CRDs Established. */
  readonly definitionsTimeoutMs?: number;
  readonly pollMs?: number;
  readonly healthPollMs?: number;
  readonly waitRequeueMs?: number;
  readonly dependencyRequeueMs?: number;
  readonly retryBaseMs?: number;
  /**
   * Where kustomize reads a decrypted copy of a checkout that holds SOPS files (removed after
   * each build). "" (the default) means <stateDir>/reconciler/scratch; the chart can mount a
   * memory-backed emptyDir there so plaintext never reaches a disk.
   */
  readonly scratchDir?: string;
  /** Objects healed at once (one object is never healed twice at once). Default 4. */
  readonly healWorkers?: number;
  /** Heals undone by the same other field manager within healLoopWindowMs that make a fight. */
  readonly healLoopThreshold?: number;
  readonly healLoopWindowMs?: number;
  /** The first wait between heals in a fight (doubling per heal), and its cap. */
  readonly healBackoffMs?: number;
  readonly healBackoffCapMs?: number;
  /** The Secret (in the controller's namespace) with the push secrets for /hooks/git. */
  readonly pushSecretName?: string;
}

export const DEFAULT_SEARCH_PATH = "/usr/local/bin:/usr/bin:/bin";

export const RECONCILER_DEFAULTS: Required<ReconcilerOptions> = {
  kustomize: "kustomize",
  helm: "helm",
  git: "git",
  searchPath: DEFAULT_SEARCH_PATH,
  workers: 4,
  concurrency: 8,
  gitTimeoutMs: 120_000,
  kustomizeTimeoutMs: 120_000,
  definitionsTimeoutMs: 30_000,
  pollMs: 250,
  healthPollMs: 5_000,
  waitRequeueMs: 5_000,
  dependencyRequeueMs: 30_000,
  retryBaseMs: 5_000,
  scratchDir: "",
  healWorkers: 4,
  healLoopThreshold: 3,
  healLoopWindowMs: 60_000,
  healBackoffMs: 2_000,
  healBackoffCapMs: 300_000,
  pushSecretName: "gitops-guard-push",
};

/**
 * The settings a component runs with: explicit options (tests), then Config's reconciler
 * settings (seconds there), then RECONCILER_DEFAULTS. Pure.
 */
export function reconcilerOptions(
  config: ReconcilerConfig,
  options: ReconcilerOptions = {},
): Required<ReconcilerOptions> {
  return {
    ...RECONCILER_DEFAULTS,
    workers: config.workers,
    concurrency: config.applyConcurrency,
    healWorkers: config.healWorkers,
    gitTimeoutMs: config.gitTimeoutSeconds * 1000,
    searchPath: config.toolsPath,
    healLoopThreshold: config.healLoopThreshold,
    healLoopWindowMs: config.healLoopWindowSeconds * 1000,
    healBackoffMs: config.healBackoffSeconds * 1000,
    healBackoffCapMs: config.healBackoffCapSeconds * 1000,
    ...options,
  };
}

function changedSpec(obj: GitSyncObject, old: GitSyncObject | undefined): boolean {
  return (
    old === undefined ||
    obj.metadata.generation !== old.metadata.generation ||
    obj.metadata.deletionTimestamp !== old.metadata.deletionTimestamp ||
    JSON.stringify(obj.metadata.annotations ?? {}) !==
      JSON.stringify(old.metadata.annotations ?? {})
  );
}

function changedConditions(obj: GitSyncObject, old: GitSyncObject | undefined): boolean {
  return (
    JSON.stringify(obj.status?.conditions ?? []) !== JSON.stringify(old?.status?.conditions ?? [])
  );
}

/** The reconciler's folder under the product's state dir: Git caches, HOME, scratch. */
export function reconcilerStateDir(stateDir: string): string {
  return join(stateDir, "reconciler");
}

/** Resolves once the informer has synced, or at once when signal aborts (the API may be down). */
function untilSyncedOrAborted(
  informer: Informer<GitSyncObject>,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    void informer.waitForSync().then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

function syncEnvironment(ctx: ComponentContext, o: Required<ReconcilerOptions>): SyncEnvironment {
  const stateDir = reconcilerStateDir(ctx.config.stateDir);
  // kustomize and helm: the same PATH, an empty HOME of ours, and the render timeout.
  const tools = {
    searchPath: o.searchPath,
    homeDir: join(stateDir, "home"),
    timeoutMs: o.kustomizeTimeoutMs,
  };
  return {
    kube: ctx.kube,
    read: apiReader(ctx.kube),
    clock: ctx.clock,
    git: { git: o.git, searchPath: o.searchPath, stateDir, timeoutMs: o.gitTimeoutMs },
    kustomize: { kustomize: o.kustomize, ...tools },
    helm: { helm: o.helm, ...tools, cacheDir: join(stateDir, "helm-charts") },
    helmRenders: new RenderCache(),
    concurrency: o.concurrency,
    definitionsTimeoutMs: o.definitionsTimeoutMs,
    pollMs: o.pollMs,
    scratchDir: o.scratchDir === "" ? join(stateDir, "scratch") : o.scratchDir,
    sopsKms: ctx.config.sopsKms,
  };
}

function selfHealer(
  ctx: ComponentContext,
  o: Required<ReconcilerOptions>,
  rc: ReconcileContext,
): SelfHealer {
  return new SelfHealer({
    kube: ctx.kube,
    clock: ctx.clock,
    logger: ctx.logger,
    metrics: ctx.metrics,
    store: rc.store,
    lookup: rc.lookup,
    clientFor: (gitSync) => rc.actors.current(gitSync).kube,
    workers: o.healWorkers,
    fights: {
      threshold: o.healLoopThreshold,
      windowMs: o.healLoopWindowMs,
      backoffMs: o.healBackoffMs,
      capMs: o.healBackoffCapMs,
    },
  });
}

/** Runs one GitSync reconcile with self-heal told when it starts and ends. */
async function reconcileWithHeal(
  rc: ReconcileContext,
  healer: SelfHealer,
  key: string,
  signal: AbortSignal,
): ReturnType<typeof reconcileGitSync> {
  healer.syncStarted(key);
  try {
    return await reconcileGitSync(rc, key, signal);
  } finally {
    if (rc.store.memory(key) === undefined) healer.forget(key);
    await healer.syncEnded(key);
  }
}

/**
 * The GitSync component: one informer, one queue, workers that run reconcileGitSync, and
 * self-heal (selfheal/) watching the objects of every inventory.
 */
export function createReconcilerComponent(
  ctx: ComponentContext,
  options: ReconcilerOptions = {},
): Component {
  const informer = new Informer<GitSyncObject>({
    client: ctx.kube,
    type: GITSYNC,
    clock: ctx.clock,
    onError: (err, attempt) => {
      ctx.metrics.informerRestarts.inc({ resource: "gitsyncs" });
      ctx.logger.warn({ err: errorMessage(err), attempt }, "gitsync informer restarting");
    },
  });
  const o = reconcilerOptions(ctx.config.reconciler, options);
  const env = syncEnvironment(ctx, o);
  const metrics = new GitSyncMetrics(reconcilerMetrics(ctx.metrics.registry));
  // Fresh memory for every leadership term: another leader may have synced meanwhile.
  const reconcileContext = (): ReconcileContext => ({
    env,
    actors: new GitSyncActors(ctx.kube, {
      defaultServiceAccount: ctx.config.defaultServiceAccount,
      controllerNamespace: ctx.config.namespace,
    }),
    ownership: new OwnershipIndex(),
    allowFileUrls: ctx.config.allowFileUrls,
    store: new DesiredStateStore(),
    lookup: (namespace, name) => informer.get(name, namespace),
    events: gitSyncEvents({ kube: ctx.kube, clock: ctx.clock, logger: ctx.logger }),
    metrics,
    logger: ctx.logger,
    timing: {
      healthPollMs: o.healthPollMs,
      waitRequeueMs: o.waitRequeueMs,
      dependencyRequeueMs: o.dependencyRequeueMs,
      retryBaseMs: o.retryBaseMs,
    },
  });
  return {
    name: "reconciler",
    leaderOnly: true,
    readiness: () => ({ "informer:gitsyncs": informer.synced() }),
    // Served by every replica: a push only annotates GitSyncs, and the leader syncs them.
    routes: () =>
      pushRouter({
        kube: ctx.kube,
        clock: ctx.clock,
        logger: ctx.logger,
        secret: { namespace: ctx.config.namespace, name: o.pushSecretName },
        pushes: reconcilerMetrics(ctx.metrics.registry).pushes,
      }),
    async run(signal: AbortSignal): Promise<void> {
      const queue = new WorkQueue<string>({ clock: ctx.clock });
      const rc = reconcileContext();
      const healer = selfHealer(ctx, o, rc);
      const syncing: ReconcileContext = {
        ...rc,
        shape: (gitSync, obj) => healer.shape(gitSync, obj),
        cached: (ref) => healer.cached(ref),
      };
      // Self-heal stops with the component, also when the workers end for another reason.
      const healStop = new AbortController();
      const stopHealing = (): void => {
        healStop.abort();
      };
      signal.addEventListener("abort", stopHealing, { once: true });
      const healing = healer.run(healStop.signal);
      const keyOfObj = (obj: GitSyncObject): string =>
        keyOf({ namespace: obj.metadata.namespace, name: obj.metadata.name ?? "" });
      const wakeDependents = (obj: GitSyncObject): void => {
        const target = { namespace: obj.metadata.namespace ?? "", name: obj.metadata.name ?? "" };
        for (const key of dependentsOf(target, informer.list())) queue.add(key);
      };
      const unsubscribe = [
        informer.on("add", (obj) => {
          rc.ownership.update(obj);
          queue.add(keyOfObj(obj));
        }),
        informer.on("update", (obj, old) => {
          rc.ownership.update(obj);
          // Our own status writes change neither generation nor annotations: no reconcile loop.
          if (changedSpec(obj, old)) queue.add(keyOfObj(obj));
          if (changedConditions(obj, old)) wakeDependents(obj);
        }),
        informer.on("delete", (obj) => {
          rc.ownership.remove(keyOfObj(obj));
          queue.add(keyOfObj(obj));
          wakeDependents(obj);
        }),
      ];
      const controller = "gitsync";
      try {
        informer.start();
        await untilSyncedOrAborted(informer, signal);
        ctx.metrics.informerSynced.set({ resource: "gitsyncs" }, informer.synced() ? 1 : 0);
        await runWorkers({
          queue,
          reconcile: (key, workerSignal) => reconcileWithHeal(syncing, healer, key, workerSignal),
          workers: o.workers,
          signal,
          clock: ctx.clock,
          onResult: (key, outcome, durationMs, error) => {
            ctx.metrics.reconcileTotal.inc({ controller, outcome });
            ctx.metrics.reconcileDuration.observe({ controller }, durationMs / 1000);
            ctx.metrics.workqueueDepth.set({ controller }, queue.len());
            if (error !== undefined)
              ctx.logger.warn(
                { gitSync: key, outcome, err: errorMessage(error) },
                "reconcile failed",
              );
          },
        });
      } finally {
        for (const off of unsubscribe) off();
        queue.shutDown();
        await queue.drain();
        await informer.stop();
        signal.removeEventListener("abort", stopHealing);
        healStop.abort();
        await healing;
        rc.actors.close();
        ctx.metrics.informerSynced.set({ resource: "gitsyncs" }, 0);
      }
    },
  };
}
