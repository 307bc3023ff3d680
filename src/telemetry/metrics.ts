/**
 * Metrics on a registry of our own (never prom-client's global default), so every test and
 * every process part gets a clean, isolated set. Components register their own metrics on
 * `metrics.registry` with the `gitops_guard_` prefix (see metricName).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { readBuildInfo, type BuildInfo } from "./build-info.js";

export const METRIC_PREFIX = "gitops_guard_";

/** The full name for a metric of ours: metricName("drift_detected_total"). */
export function metricName(name: string): string {
  return `${METRIC_PREFIX}${name}`;
}

export interface Metrics {
  readonly registry: Registry;
  /** Reconciles finished; outcome is success, requeue, error or terminal. */
  readonly reconcileTotal: Counter<"controller" | "outcome">;
  readonly reconcileDuration: Histogram<"controller">;
  readonly workqueueDepth: Gauge<"controller">;
  readonly informerRestarts: Counter<"resource">;
  /** 1 once the informer's first list has completed. */
  readonly informerSynced: Gauge<"resource">;
  /** 1 while this process holds the lease. */
  readonly leaderIsLeader: Gauge<"lease">;
  readonly httpRequests: Counter<"server" | "route" | "code">;
  /** Always 1; the labels carry the build. */
  readonly buildInfo: Gauge<"version" | "node">;
  /** The exposition text for GET /metrics. */
  text(): Promise<string>;
  /** The Content-Type that goes with text(). */
  readonly contentType: string;
}

// Reconciles span milliseconds (cache-only) to minutes (a large Git apply).
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** A fresh registry with the foundation metrics; `build` defaults to package.json and Node. */
export function createMetrics(build: BuildInfo = readBuildInfo()): Metrics {
  const registry = new Registry();
  const registers = [registry];
  // Standard process_* and nodejs_* names stay unprefixed, as Prometheus conventions and
  // existing dashboards expect.
  collectDefaultMetrics({ register: registry });
  const buildInfo = new Gauge({
    name: metricName("build_info"),
    help: "Build information; the value is always 1.",
    labelNames: ["version", "node"] as const,
    registers,
  });
  buildInfo.set({ version: build.version, node: build.node }, 1);
  return {
    registry,
    reconcileTotal: new Counter({
      name: metricName("reconcile_total"),
      help: "Reconciles finished, by controller and outcome.",
      labelNames: ["controller", "outcome"] as const,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: metricName("reconcile_duration_seconds"),
      help: "Time spent in one reconcile, by controller.",
      labelNames: ["controller"] as const,
      buckets: RECONCILE_BUCKETS,
      registers,
    }),
    workqueueDepth: new Gauge({
      name: metricName("workqueue_depth"),
      help: "Keys waiting in a controller's work queue.",
      labelNames: ["controller"] as const,
      registers,
    }),
    informerRestarts: new Counter({
      name: metricName("informer_restarts_total"),
      help: "Informer restarts after a watch or list error, by resource.",
      labelNames: ["resource"] as const,
      registers,
    }),
    informerSynced: new Gauge({
      name: metricName("informer_synced"),
      help: "1 once an informer has completed its first list, by resource.",
      labelNames: ["resource"] as const,
      registers,
    }),
    leaderIsLeader: new Gauge({
      name: metricName("leader_is_leader"),
      help: "1 while this process holds the lease.",
      labelNames: ["lease"] as const,
      registers,
    }),
    httpRequests: new Counter({
      name: metricName("http_requests_total"),
      help: "HTTP requests served, by server, route and status code.",
      labelNames: ["server", "route", "code"] as const,
      registers,
    }),
    buildInfo,
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
