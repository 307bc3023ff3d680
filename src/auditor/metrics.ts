import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { metricName } from "../telemetry/metrics.js";

/** The auditor's metrics. Labels are kinds, namespaces and outcomes: never names or values. */
export interface AuditorMetrics {
  readonly driftDetected: Counter<"kind" | "namespace">;
  readonly driftHealed: Counter<"kind" | "namespace">;
  readonly driftUnattributed: Counter<"kind" | "namespace">;
  readonly breakGlassActive: Gauge;
  readonly driftToHeal: Histogram<"kind">;
  readonly journalRecords: Gauge;
  readonly auditEvents: Counter<"outcome">;
  /** Admission facts no seen drift was joined to: expired (nothing happened) or journaled. */
  readonly unseenFacts: Counter<"outcome">;
  readonly alerts: Counter<"sink" | "outcome">;
  readonly alertsDropped: Counter<"sink">;
}

// Self-heal is expected within seconds; a heal that waits for a break-glass expiry takes hours.
const HEAL_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

/** activeBreakGlass is read at every scrape. */
export function createAuditorMetrics(
  registry: Registry,
  activeBreakGlass: () => number,
): AuditorMetrics {
  const registers = [registry];
  return {
    driftDetected: new Counter({
      name: metricName("drift_detected_total"),
      help: "Out-of-band changes to guarded or inventoried objects, by kind and namespace.",
      labelNames: ["kind", "namespace"] as const,
      registers,
    }),
    driftHealed: new Counter({
      name: metricName("drift_healed_total"),
      help: "Drifted objects that returned to their state before the drift.",
      labelNames: ["kind", "namespace"] as const,
      registers,
    }),
    driftUnattributed: new Counter({
      name: metricName("drift_unattributed_total"),
      help: "Out-of-band changes no audit event or admission Event could attribute to a user.",
      labelNames: ["kind", "namespace"] as const,
      registers,
    }),
    breakGlassActive: new Gauge({
      name: metricName("break_glass_active"),
      help: "Objects that carry an unexpired break-glass annotation.",
      registers,
      collect() {
        this.set(activeBreakGlass());
      },
    }),
    driftToHeal: new Histogram({
      name: metricName("drift_to_heal_seconds"),
      help: "Time from a drift being seen to the object returning to its state before it.",
      labelNames: ["kind"] as const,
      buckets: HEAL_BUCKETS,
      registers,
    }),
    journalRecords: new Gauge({
      name: metricName("journal_records"),
      help: "Records in the audit journal.",
      registers,
    }),
    auditEvents: new Counter({
      name: metricName("audit_webhook_events_total"),
      help: "Audit events received from the API server's audit webhook, by outcome.",
      labelNames: ["outcome"] as const,
      registers,
    }),
    unseenFacts: new Counter({
      name: metricName("attribution_unseen_facts_total"),
      help: "Admission facts checked after no seen drift took them: expired (the write did not happen) or journaled (it happened unseen).",
      labelNames: ["outcome"] as const,
      registers,
    }),
    alerts: new Counter({
      name: metricName("alerts_total"),
      help: "Alert deliveries, by sink type and outcome (sent, failed, deduplicated, limited).",
      labelNames: ["sink", "outcome"] as const,
      registers,
    }),
    alertsDropped: new Counter({
      name: metricName("alerts_dropped_total"),
      help: "Alerts dropped because a sink's bounded queue was full.",
      labelNames: ["sink"] as const,
      registers,
    }),
  };
}
