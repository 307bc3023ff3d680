/**
 * The secrets component: the SealedSecret controller (leader only) and its HTTP endpoints.
 * It owns the SealedSecret informers, the Secret watches (secret-watches.ts: key Secrets and
 * owned Secrets with their data, so new keys are picked up and an owned Secret edited or
 * deleted out of band is restored; of every other Secret only its changes, as metadata, and
 * nothing kept), a work queue, the keys in the cluster and their renewal.
 */
import type { Router } from "express";
import type { ComponentContext } from "../component-context.js";
import type { Keyring } from "../crypto/sealing/keyring.js";
import { errorMessage } from "../errors.js";
import { Informer } from "../kube/informer.js";
import type { KubeObject } from "../kube/objects.js";
import { Closers } from "../runtime/closers.js";
import type { Component } from "../runtime/component.js";
import { runWorkers, type Outcome } from "../runtime/controller.js";
import { isTrue } from "../runtime/conditions.js";
import { WorkQueue } from "../runtime/queue.js";
import { sealedSecretEvents } from "./events.js";
import { KeyStore } from "./keys.js";
import { KeyUsage, secretsMetrics, type SecretsMetrics } from "./metrics.js";
import {
  BITNAMI_SEALED_SECRET,
  CONTROLLER,
  SEALED_SECRET,
  SECRET,
  SYNCED,
  type SealedSecretType,
} from "./names.js";
import { reconcileSealedSecret, type ReconcileDeps } from "./reconcile.js";
import { renewLoop } from "./renew.js";
import { sealedSecretKeysFor, type SealedSecretObject } from "./render.js";
import { secretsRouter } from "./routes.js";
import { secretWatches, type SecretWatches } from "./secret-watches.js";
import { inlineUnsealer, startUnsealPool, type Unsealer } from "./unseal-pool.js";
import { wireHandlers, wireKeys } from "./watch.js";

/**
 * Settings of the component. workers, renewPeriodMs and watchNamespace override Config's
 * (config.secrets.workers, config.secrets.keyRenewPeriodHours, config.watchNamespace), which
 * are used when they are absent; the others are not in Config, and their defaults suit a
 * cluster.
 */
export interface SecretsOptions {
  /** Reconciles in flight at once (different SealedSecrets). Default: Config's (8). */
  readonly workers?: number;
  /** RSA size of generated keys. Default 4096 (as Bitnami). */
  readonly keyBits?: number;
  /** A new key this long after the newest became current; 0 disables. Default: Config's. */
  readonly renewPeriodMs?: number;
  /** Watch one namespace only (SealedSecrets and Secrets). Default: Config's (all). */
  readonly watchNamespace?: string;
  /**
   * A Normal "Unsealed" Event each time a Secret is written (as Bitnami). Default true; false
   * saves one API write per SealedSecret (failures always get a Warning Event) but also ends
   * the auditor's secret-materialised records, which are read from these Events.
   */
  readonly successEvents?: boolean;
  /** /v1/verify requests per second per client. Default 2, burst 2 (as Bitnami). */
  readonly verifyRate?: { readonly perSecond: number; readonly burst: number };
  /**
   * Also reconcile bitnami.com/v1alpha1 SealedSecrets (and their deprecated v1 spec.data), to
   * take over from Bitnami's controller without rewriting a repository. Default false.
   */
  readonly bitnami?: boolean;
}

export interface SecretsComponent extends Component {
  /** /healthz, /v1/cert.pem, /v1/verify, /v1/rotate: mount on the ops server. */
  routes(): Router;
  /** Adds a key now (on demand); resolves with its fingerprint. Only while running. */
  rotateKey(): Promise<string>;
}

/** One SealedSecret kind's controller: its informer, queue, and the echo filter of its writes. */
interface Lane {
  readonly type: SealedSecretType;
  readonly queue: WorkQueue<string>;
  readonly sealedSecrets: Informer<SealedSecretObject>;
  readonly written: Map<string, string>;
}

interface Running {
  readonly lanes: readonly Lane[];
  readonly secrets: SecretWatches;
  readonly unsealer: Unsealer;
}

// A non-leader replica serving /v1/cert.pem reads the key Secrets at most this often.
const STANDBY_RELOAD_MS = 10_000;

export function createSecretsComponent(
  ctx: ComponentContext,
  options: SecretsOptions = {},
): SecretsComponent {
  const logger = ctx.logger;
  const workers = options.workers ?? ctx.config.secrets.workers;
  const watchNamespace = options.watchNamespace ?? ctx.config.watchNamespace;
  const keys = new KeyStore({
    kube: ctx.kube,
    namespace: ctx.config.namespace,
    clock: ctx.clock,
    logger,
    ...(options.keyBits === undefined ? {} : { bits: options.keyBits }),
    renewPeriodMs: options.renewPeriodMs ?? ctx.config.secrets.keyRenewPeriodHours * 3_600_000,
  });
  const metrics = secretsMetrics(ctx.metrics.registry);
  const usage = new KeyUsage(metrics.keyUsage);
  const events = sealedSecretEvents({ kube: ctx.kube, clock: ctx.clock, logger });
  let running: Running | undefined;
  let standbyLoadedAt = Number.NEGATIVE_INFINITY;

  const keyring = async (): Promise<Keyring> => {
    const now = ctx.clock.now();
    if (running === undefined && now - standbyLoadedAt > STANDBY_RELOAD_MS) {
      standbyLoadedAt = now;
      await keys.load();
    }
    return keys.keyring;
  };

  const types: SealedSecretType[] =
    options.bitnami === true ? [SEALED_SECRET, BITNAMI_SEALED_SECRET] : [SEALED_SECRET];
  const scope = watchNamespace === undefined ? {} : { namespace: watchNamespace };
  const onInformerError =
    (kind: string) =>
    (err: unknown, attempt: number): void => {
      ctx.metrics.informerRestarts.inc({ resource: kind });
      logger.warn({ resource: kind, attempt, err: errorMessage(err) }, "informer restarts");
    };
  const informer = <T extends KubeObject>(type: SealedSecretType): Informer<T> =>
    new Informer<T>({
      client: ctx.kube,
      type,
      clock: ctx.clock,
      ...scope,
      onError: onInformerError(type.kind),
    });

  const onKeysChanged = (): void => {
    updateKeyMetrics(metrics, keys);
    // SealedSecrets that did not open may open with the new key (an import).
    for (const lane of running?.lanes ?? []) {
      for (const ss of lane.sealedSecrets.list()) {
        if (!isTrue(ss.status?.conditions, SYNCED)) lane.queue.add(keyOfObject(ss));
      }
    }
  };

  const laneFor = (type: SealedSecretType): Lane => ({
    type,
    queue: new WorkQueue<string>({ clock: ctx.clock }),
    sealedSecrets: informer<SealedSecretObject>(type),
    written: new Map(),
  });

  const depsFor = (lane: Lane, current: Running): ReconcileDeps => ({
    kube: ctx.kube,
    clock: ctx.clock,
    logger,
    sealedSecrets: lane.sealedSecrets,
    secrets: current.secrets,
    unsealer: current.unsealer,
    keys,
    events,
    metrics,
    written: lane.written,
    usage,
    successEvents: options.successEvents ?? true,
  });

  const wire = (lane: Lane, secrets: SecretWatches): void => {
    wireHandlers({
      queue: lane.queue,
      sealedSecrets: lane.sealedSecrets,
      secrets,
      written: lane.written,
      ownersOf: (secret) =>
        sealedSecretKeysFor(secret, lane.type.apiVersion, (key) => {
          const [ns, name] = key.split("/");
          return lane.sealedSecrets.get(name ?? "", ns) !== undefined;
        }),
    });
  };

  /** The run's unseal threads, informers and queues, each closed by closers when it ends. */
  const open = (closers: Closers): Running => {
    const cpuMeter = {
      onCpu: (micros: number): void => {
        metrics.unsealCpu.inc(micros / 1e6);
      },
    };
    const threads = ctx.config.unsealThreads;
    const unsealer = threads > 0 ? startUnsealPool(threads, cpuMeter) : inlineUnsealer(cpuMeter);
    closers.add(() => unsealer.close());
    const secrets = secretWatches({
      client: ctx.kube,
      clock: ctx.clock,
      keyNamespace: ctx.config.namespace,
      ...(watchNamespace === undefined ? {} : { watchNamespace }),
      onError: onInformerError(SECRET.kind),
    });
    const current: Running = { lanes: types.map(laneFor), secrets, unsealer };
    closers.add(async () => {
      for (const lane of current.lanes) lane.queue.shutDown();
      await Promise.all([
        ...current.lanes.map((lane) => lane.sealedSecrets.stop()),
        current.secrets.stop(),
      ]);
    });
    running = current;
    closers.add(() => {
      running = undefined;
    });
    wireKeys(secrets.keys, keys, onKeysChanged);
    for (const lane of current.lanes) wire(lane, secrets);
    return current;
  };

  async function run(signal: AbortSignal): Promise<void> {
    const closers = new Closers();
    try {
      await startAndServe(open(closers), signal);
    } finally {
      await closers.closeAll((err) => {
        logger.warn({ err: errorMessage(err) }, "cannot close what the secrets controller opened");
      });
    }
  }

  async function startAndServe(current: Running, signal: AbortSignal): Promise<void> {
    if (!(await ensureKeyUntil(keys, ctx, signal))) return;
    updateKeyMetrics(metrics, keys);
    current.secrets.start();
    for (const lane of current.lanes) lane.sealedSecrets.start();
    await Promise.all([
      current.secrets.waitForSync(),
      ...current.lanes.map((lane) => lane.sealedSecrets.waitForSync()),
    ]);
    logger.info(
      {
        keys: keys.keyring.size,
        newest: keys.keyring.latest()?.fingerprint,
        kinds: current.lanes.map((lane) => lane.type.apiVersion),
      },
      "secrets controller started",
    );
    await Promise.all([
      ...current.lanes.map((lane) => {
        const deps = depsFor(lane, current);
        return runWorkers({
          queue: lane.queue,
          reconcile: (key) => reconcileSealedSecret(deps, key),
          workers,
          signal,
          clock: ctx.clock,
          onResult: (key, outcome, ms, err) => {
            report(ctx, { key, outcome, ms, err });
          },
        });
      }),
      renewLoop({ keys, clock: ctx.clock, logger, signal, onRenewed: onKeysChanged }),
    ]);
  }

  return {
    name: "secrets",
    leaderOnly: true,
    run,
    readiness: () => ({
      ...Object.fromEntries(
        types.map((type) => [
          readinessName(type),
          running?.lanes.find((lane) => lane.type === type)?.sealedSecrets.synced() ?? false,
        ]),
      ),
      "informer:secrets": running?.secrets.synced() ?? false,
      "secrets:keys": keys.loaded(),
    }),
    routes: () =>
      secretsRouter({
        keyring,
        clock: ctx.clock,
        ...(options.verifyRate === undefined ? {} : { verifyRate: options.verifyRate }),
      }),
    async rotateKey() {
      const key = await keys.rotate();
      onKeysChanged();
      return key?.fingerprint ?? "";
    },
  };
}

const KEY_RETRY_MS = 5_000;

/** Loads (or makes) the keys, retrying while the API server is unreachable; false if stopped. */
async function ensureKeyUntil(
  keys: KeyStore,
  ctx: ComponentContext,
  signal: AbortSignal,
): Promise<boolean> {
  const stopped = (): boolean => signal.aborted;
  while (!stopped()) {
    try {
      await keys.ensureKey();
      return true;
    } catch (err: unknown) {
      ctx.logger.warn({ err: errorMessage(err) }, "sealing keys not loaded; retrying");
      await ctx.clock.sleep(KEY_RETRY_MS, signal);
    }
  }
  return false;
}

/** "informer:sealedsecrets" for ours (as before the opt-in existed), suffixed for Bitnami's. */
function readinessName(type: SealedSecretType): string {
  return type === SEALED_SECRET ? "informer:sealedsecrets" : "informer:sealedsecrets.bitnami.com";
}

function keyOfObject(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ""}/${obj.metadata.name ?? ""}`;
}

function updateKeyMetrics(metrics: SecretsMetrics, keys: KeyStore): void {
  metrics.keys.set(keys.keyring.size);
  const newest = keys.keyring.latest();
  if (newest !== undefined) metrics.lastRotation.set(Math.floor(newest.since / 1000));
}

function report(
  ctx: ComponentContext,
  r: { key: string; outcome: Outcome; ms: number; err: unknown },
): void {
  ctx.metrics.reconcileTotal.inc({ controller: CONTROLLER, outcome: r.outcome });
  ctx.metrics.reconcileDuration.observe({ controller: CONTROLLER }, r.ms / 1000);
  if (r.err === undefined) return;
  // The message is the sealing library's explanation or an API error: names, never values.
  ctx.logger.warn(
    { sealedSecret: r.key, outcome: r.outcome, err: errorMessage(r.err) },
    "reconcile failed",
  );
}
