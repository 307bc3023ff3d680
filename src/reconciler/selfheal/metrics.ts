import { Counter, Histogram, type Registry } from "prom-client";
import { metricName } from "../../telemetry/metrics.js";

/**
 * Self-heal's metrics, labelled by kind only (never names). They carry a selfheal_ prefix: the
 * auditor owns gitops_guard_drift_detected_total and drift_healed_total on the same registry.
 */
export interface SelfHealMetrics {
  readonly detected: Counter<"kind">;
  readonly healed: Counter<"kind">;
  readonly loops: Counter<"kind">;
  readonly latency: Histogram<"kind">;
}

// A heal is a watch event plus one apply: milliseconds, unless it waited in a backoff.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function counter(registry: Registry, name: string, help: string): Counter<"kind"> {
  const full = metricName(name);
  return (
    (registry.getSingleMetric(full) as Counter<"kind"> | undefined) ??
    new Counter({ name: full, help, labelNames: ["kind"] as const, registers: [registry] })
  );
}

/** Registers the metrics, or returns those already on registry (one set per registry). */
export function selfHealMetrics(registry: Registry): SelfHealMetrics {
  const latencyName = metricName("selfheal_latency_seconds");
  return {
    detected: counter(
      registry,
      "selfheal_drift_detected_total",
      "Changes to inventoried objects that left them different from Git, by kind.",
    ),
    healed: counter(
      registry,
      "selfheal_drift_healed_total",
      "Drifted objects re-applied (or re-created) from Git by self-heal, by kind.",
    ),
    loops: counter(
      registry,
      "selfheal_loops_total",
      "Heal loops against another field manager detected (healing then backs off), by kind.",
    ),
    latency:
      (registry.getSingleMetric(latencyName) as Histogram<"kind"> | undefined) ??
      new Histogram({
        name: latencyName,
        help: "Time from the watch event of a drift to the end of the apply that healed it.",
        labelNames: ["kind"] as const,
        buckets: BUCKETS,
        registers: [registry],
      }),
  };
}
