// The composition root: config -> telemetry -> kube -> components. Nothing else wires objects
// together, and nothing here decides anything a component should.
import type { Writable } from "node:stream";
import type { ComponentFactory } from "./component-context.js";
import type { Component as ComponentName, Config } from "./config.js";
import { errorMessage } from "./errors.js";
import { createOpsApp } from "./http/ops.js";
import { startServer } from "./http/server.js";
import { createKubeClient, type KubeClient } from "./kube/client.js";
import { kubeLeaseStore } from "./kube/lease-store.js";
import { realClock, type Clock } from "./runtime/clock.js";
import type { Component } from "./runtime/component.js";
import { LeaderElector } from "./runtime/leader.js";
import { createAdmissionComponent } from "./admission/component.js";
import { auditWebhookSettings } from "./auditor/audit-webhook-files.js";
import { createAuditorComponent } from "./auditor/component.js";
import { createReconcilerComponent } from "./reconciler/component.js";
import { createSecretsComponent } from "./secrets/component.js";
import { createLogger, type Logger } from "./telemetry/log.js";
import { createMetrics, type Metrics } from "./telemetry/metrics.js";

const FACTORIES: Readonly<Record<ComponentName, ComponentFactory>> = {
  admission: (ctx) => createAdmissionComponent(ctx),
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
  await runComponents(config, services, components, deps);
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

/** Runs components: the ops server first, then the always-on ones, then leader-only ones behind the lease. */
export async function runComponents(
  config: Config,
  services: Services,
  components: readonly Component[],
  deps: RunDeps = {},
): Promise<void> {
  const { logger, metrics } = services;
  const signal = stopSignal(deps, logger);
  const leadership: Leadership = { leading: false };
  // A standby replica is ready without the leader-only checks: their informers run only on the
  // leader, and a 503 would take healthy standbys out of their Service.
  const counted = (c: Component): boolean => !c.leaderOnly || leadership.leading;
  const readiness = (): { ready: boolean; checks: Record<string, boolean> } => {
    const checks = Object.assign(
      {},
      ...components.filter(counted).map((c) => c.readiness()),
    ) as Record<string, boolean>;
    return { ready: Object.values(checks).every(Boolean), checks };
  };
  const ops = await startServer({
    app: createOpsApp({
      metrics,
      readiness,
      logger,
      routers: components.flatMap((c) => (c.routes === undefined ? [] : [c.routes()])),
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
    const always = components.filter((c) => !c.leaderOnly).map((c) => c.run(signal));
    const leaderOnly = components.filter((c) => c.leaderOnly);
    await Promise.all([
      ...always,
      runLeaderOnly(config, services, leaderOnly, { signal, leadership }),
    ]);
  } finally {
    await ops.close();
    logger.info("stopped");
  }
}

interface Leadership {
  leading: boolean;
}

async function runLeaderOnly(
  config: Config,
  services: Services,
  components: readonly Component[],
  { signal, leadership }: { signal: AbortSignal; leadership: Leadership },
): Promise<void> {
  if (components.length === 0) return;
  const runAll = async (s: AbortSignal): Promise<void> => {
    leadership.leading = true;
    try {
      await Promise.all(components.map((c) => c.run(s)));
    } finally {
      leadership.leading = false;
    }
  };
  const election = config.leaderElection;
  if (!election.enabled) {
    await runAll(signal);
    return;
  }
  const { logger, metrics } = services;
  const gauge = metrics.leaderIsLeader.labels({ lease: election.leaseName });
  gauge.set(0);
  const elector = new LeaderElector({
    store: kubeLeaseStore(services.kube, config.namespace, election.leaseName),
    clock: services.clock,
    identity: config.identity,
    leaseDurationMs: election.leaseDurationSeconds * 1000,
    renewDeadlineMs: election.renewDeadlineSeconds * 1000,
    retryPeriodMs: election.retryPeriodSeconds * 1000,
    onStartedLeading: async (leading) => {
      gauge.set(1);
      logger.info({ lease: election.leaseName }, "leading");
      await runAll(leading);
    },
    onStoppedLeading: () => {
      gauge.set(0);
      logger.info({ lease: election.leaseName }, "stopped leading");
    },
    onError: (err) => {
      logger.warn({ err: errorMessage(err), lease: election.leaseName }, "leader election");
    },
  });
  await elector.run(signal);
}
