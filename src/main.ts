// The composition root: config -> telemetry -> kube -> components. Nothing else wires objects
// together, and nothing here decides anything a component should.
import type { Writable } from "node:stream";
import type { ComponentFactory } from "./component-context.js";
import type { Component as ComponentName, Config } from "./config.js";
import { ErrorCodes, GuardError, errorMessage, isGuardError } from "./errors.js";
import { createOpsApp } from "./http/ops.js";
import { startServer } from "./http/server.js";
import { createKubeClient, type KubeClient } from "./kube/client.js";
import { kubeLeaseStore } from "./kube/lease-store.js";
import { realClock, type Clock } from "./runtime/clock.js";
import {
  componentFailed,
  Supervisor,
  type Component,
  type ComponentFailure,
} from "./runtime/component.js";
import { LeaderElector } from "./runtime/leader.js";
import { createAdmissionComponent } from "./admission/component.js";
import { auditWebhookSettings } from "./auditor/audit-webhook-files.js";
import { createAuditorComponent } from "./auditor/component.js";
import { createReconcilerComponent } from "./reconciler/component.js";
import { createSecretsComponent } from "./secrets/component.js";
import { createLogger, type Logger } from "./telemetry/log.js";
import { createMetrics, type Metrics } from "./telemetry/metrics.js";

const FACTORIES: Readonly<Record<ComponentName, ComponentFactory>> = {
  admission: (ctx) => {
    const advertisedUrl = ctx.config.webhookUrl;
    return createAdmissionComponent(ctx, advertisedUrl === undefined ? {} : { advertisedUrl });
  },
  secrets: (ctx) => createSecretsComponent(ctx, { bitnami: ctx.config.bitnamiSealedSecrets }),
  reconciler: (ctx) => createReconcilerComponent(ctx),
  auditor: (ctx) => {
    const auditWebhook = auditWebhookSettings(ctx.config.auditWebhook);
    return createAuditorComponent(ctx, auditWebhook === undefined ? {} : { auditWebhook });
  },
};

const SERVICE_ACCOUNT_OF: Readonly<Record<ComponentName, keyof Config["serviceAccounts"]>> = {
  admission: "webhook",
  secrets: "secrets",
  reconciler: "reconciler",
  auditor: "reconciler",
};

export interface RunDeps {
  /** Stops the run; without it SIGTERM and SIGINT do. */
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  readonly logDestination?: Writable;
  /** Called once the ops server listens, with its URL (tests and the demo use it). */
  readonly onListening?: (opsUrl: string) => void;
}

export interface Services {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  readonly kube: KubeClient;
}

export function createServices(config: Config, deps: RunDeps = {}): Services {
  const logger = createLogger({
    level: config.logLevel,
    name: "gitops-guard",
    ...(deps.logDestination ? { destination: deps.logDestination } : {}),
  });
  const kube = createKubeClient({
    ...(config.kubeconfig === undefined ? {} : { kubeconfig: config.kubeconfig }),
    http2: config.kubeHttp2,
  });
  return { logger, metrics: createMetrics(), clock: deps.clock ?? realClock(), kube };
}

/** `gitops-guard run`: builds the configured components and runs them until stopped. */
export async function run(config: Config, deps: RunDeps = {}): Promise<void> {
  const services = createServices(config, deps);
  const components = config.components.map((name) =>
    FACTORIES[name]({
      ...services,
      config,
      logger: services.logger.child({ component: name }),
      kube: kubeFor(config, services.kube, name),
    }),
  );
  try {
    await runComponents(config, services, components, deps);
  } finally {
    // Without a signal of the caller's, this run owns the process (see stopSignal).
    if (deps.signal === undefined) exitIfStuck(services.logger);
  }
}

/** How long the process may outlive the service it ran: whatever still runs then is a leak, or
 * a component left behind (see Supervisor.waitFor). Enough for the CLI to report the exit. */
const EXIT_GRACE_MS = 1000;

/**
 * Ends the process soon after the service, as a Go controller manager ends when main returns:
 * a timer or socket some component failed to close (a watch still restarting against an API
 * server that is down, say) must not keep alive a process that no longer leads, serves or
 * reports ready, and that a standby replaced. The timer is unref'd: a clean process exits on
 * its own first, and either way with the status the CLI set.
 */
function exitIfStuck(logger: Logger): void {
  const timer = setTimeout(() => {
    const resources = process.getActiveResourcesInfo();
    logger.warn({ resources, graceMs: EXIT_GRACE_MS }, "still running after stopping: exiting");
    process.exit();
  }, EXIT_GRACE_MS);
  timer.unref();
}

/** Out of a cluster each component impersonates its own service account, as in the chart. */
function kubeFor(config: Config, kube: KubeClient, name: ComponentName): KubeClient {
  if (!config.impersonate) return kube;
  const sa = config.serviceAccounts[SERVICE_ACCOUNT_OF[name]];
  return kube.impersonating({ user: `system:serviceaccount:${config.namespace}:${sa}` });
}

function stopSignal(deps: RunDeps, logger: Logger): AbortSignal {
  if (deps.signal !== undefined) return deps.signal;
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, "stopping");
    abort.abort();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  return abort.signal;
}

/** Runs components: the ops server first, then the always-on ones, then leader-only ones behind
 * the lease. The first component to fail stops all of them, releases the lease and is the error
 * this rejects with, so the process exits and a standby takes over (as a controller manager). */
export async function runComponents(
  config: Config,
  services: Services,
  components: readonly Component[],
  deps: RunDeps = {},
): Promise<void> {
  const { logger, metrics } = services;
  const supervisor = new Supervisor({
    signal: stopSignal(deps, logger),
    clock: services.clock,
    graceMs: shutdownGraceMs,
    onFailure: ({ component, error }) => {
      logger.error({ component, code: error.code, err: error.message }, "component failed");
    },
    onLaterFailure: ({ component, error }) => {
      logger.warn({ component, err: error.message }, "component failed while stopping");
    },
  });
  const leadership: Leadership = { leading: false };
  const ops = await startServer({
    app: createOpsApp({
      metrics,
      readiness: () => readinessOf(components, leadership, supervisor),
      logger,
      routers: components.flatMap((c) => (c.routes === undefined ? [] : [c.routes()])),
      // /metrics and the journal ask the API server about each caller, as the pod's identity.
      auth: { kube: services.kube, clock: services.clock },
    }),
    listen: config.opsListen,
    logger,
  });
  deps.onListening?.(ops.url);
  logger.info(
    { components: components.map((c) => c.name), ops: ops.url, identity: config.identity },
    "started",
  );
  try {
    const always = components
      .filter((c) => !c.leaderOnly)
      .map((c) => supervisor.run(c, supervisor.signal));
    const leaderOnly = components.filter((c) => c.leaderOnly);
    const stopped = Promise.all([
      ...always,
      runLeaderOnly(config, services, leaderOnly, { supervisor, leadership }),
    ]);
    const left = await supervisor.waitFor(stopped);
    if (left.length > 0) logger.warn({ components: left }, "still stopping: left behind");
    for (const name of left) supervisor.fail(name, componentFailed(name, notStopped));
  } finally {
    await ops.close();
    logger.info("stopped");
  }
  supervisor.throwIfFailed();
}

interface Leadership {
  leading: boolean;
}

/** How long components may take to stop once asked (SIGTERM, a failure): kubelet's default
 * grace is 30 s, and a process still stopping then is killed with whatever it was writing. */
const SHUTDOWN_GRACE_MS = 15_000;

const notStopped = new Error(`it did not stop within ${String(SHUTDOWN_GRACE_MS)} ms`);

/**
 * None once the lease is lost: the work is the next leader's now, and controller-runtime skips
 * its graceful shutdown then too. Waiting would let a component stuck on an unreachable API
 * server write again when it comes back, next to the new leader.
 */
function shutdownGraceMs(failure: ComponentFailure | undefined): number {
  return isGuardError(failure?.error, ErrorCodes.LEADER_LOST) ? 0 : SHUTDOWN_GRACE_MS;
}

/**
 * A standby replica is ready without the leader-only checks: their informers run only on the
 * leader, and a 503 would take healthy standbys out of their Service. A failed component is
 * never ready: the process is on its way out, whether or not it still leads.
 */
function readinessOf(
  components: readonly Component[],
  leadership: Leadership,
  supervisor: Supervisor,
): { ready: boolean; checks: Record<string, boolean> } {
  const counted = components.filter((c) => !c.leaderOnly || leadership.leading);
  const checks = Object.assign({}, ...counted.map((c) => c.readiness())) as Record<string, boolean>;
  const failure = supervisor.failure();
  if (failure !== undefined) checks[`component:${failure.component}`] = false;
  return { ready: Object.values(checks).every(Boolean), checks };
}

interface LeaderOnlyRun {
  readonly supervisor: Supervisor;
  readonly leadership: Leadership;
}

async function runLeaderOnly(
  config: Config,
  services: Services,
  components: readonly Component[],
  { supervisor, leadership }: LeaderOnlyRun,
): Promise<void> {
  if (components.length === 0) return;
  const runAll = async (s: AbortSignal): Promise<void> => {
    leadership.leading = true;
    try {
      await Promise.all(components.map((c) => supervisor.run(c, s)));
    } finally {
      leadership.leading = false;
    }
  };
  const election = config.leaderElection;
  if (!election.enabled) {
    await runAll(supervisor.signal);
    return;
  }
  const elector = leaderElector(config, services, async (leading) => {
    // client-go's elector would campaign again; a controller manager exits instead, so that
    // whatever the lost lease stood for (a partition, a stalled event loop) ends with the process.
    const lost = (): void => {
      if (!supervisor.signal.aborted) supervisor.fail("leader-election", leaseLost(leading.reason));
    };
    leading.addEventListener("abort", lost, { once: true });
    try {
      await runAll(leading);
    } finally {
      leading.removeEventListener("abort", lost);
    }
  });
  try {
    await elector.run(supervisor.signal);
  } catch (err: unknown) {
    supervisor.fail("leader-election", isGuardError(err) ? err : leaseLost(err));
  }
}

function leaseLost(reason: unknown): GuardError {
  if (isGuardError(reason, ErrorCodes.LEADER_LOST)) return reason;
  return new GuardError(ErrorCodes.LEADER_LOST, `leadership ended: ${errorMessage(reason)}`, {
    cause: reason,
  });
}

function leaderElector(
  config: Config,
  services: Services,
  lead: (leading: AbortSignal) => Promise<void>,
): LeaderElector {
  const election = config.leaderElection;
  const { logger, metrics } = services;
  const gauge = metrics.leaderIsLeader.labels({ lease: election.leaseName });
  gauge.set(0);
  return new LeaderElector({
    store: kubeLeaseStore(services.kube, config.namespace, election.leaseName),
    clock: services.clock,
    identity: config.identity,
    leaseDurationMs: election.leaseDurationSeconds * 1000,
    renewDeadlineMs: election.renewDeadlineSeconds * 1000,
    retryPeriodMs: election.retryPeriodSeconds * 1000,
    onStartedLeading: async (leading) => {
      gauge.set(1);
      logger.info({ lease: election.leaseName }, "leading");
      await lead(leading);
    },
    onStoppedLeading: () => {
      gauge.set(0);
      logger.info({ lease: election.leaseName }, "stopped leading");
    },
    onError: (err) => {
      logger.warn({ err: errorMessage(err), lease: election.leaseName }, "leader election");
    },
  });
}
