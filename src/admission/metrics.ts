/**
 * The admission component's metrics, on the process registry with the gitops_guard_ prefix.
 * Labels are bounded: reason codes and effects are closed sets (decision.ts), never names.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { metricName } from "../telemetry/metrics.js";
import { ALLOW_REASONS, DENY_REASONS, WARN_REASONS, type Decision } from "./decision.js";

export interface AdmissionMetrics {
  readonly decisions: Counter<"reason" | "effect">;
  /** Bodies that could not be judged (malformed, unsupported version, internal error). */
  readonly failures: Counter<"code">;
  readonly duration: Histogram<"effect">;
  readonly events: Counter<"outcome">;
  readonly policies: Gauge<"state">;
  readonly backstopApplies: Counter<"outcome">;
  readonly certificateExpiry: Gauge;
  record(decision: Decision, seconds: number): void;
}

// A webhook answers in well under a millisecond to a few; the API server's budget is seconds.
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1];

/** Registers the metrics once per registry (a second component on it reuses them). */
export function admissionMetrics(registry: Registry): AdmissionMetrics {
  const registers = [registry];
  const existing = registry.getSingleMetric(metricName("admission_decisions_total"));
  const metrics = existing === undefined ? create(registers) : reuse(registry);
  return metrics;
}

function create(registers: Registry[]): AdmissionMetrics {
  const decisions = new Counter({
    name: metricName("admission_decisions_total"),
    help: "Admission decisions, by reason code and effect (allow, allow-with-warning, deny).",
    labelNames: ["reason", "effect"] as const,
    registers,
  });
  // Pre-initialised so dashboards see zeros rather than absent series.
  for (const reason of ALLOW_REASONS) decisions.labels({ reason, effect: "allow" });
  for (const reason of WARN_REASONS) decisions.labels({ reason, effect: "allow-with-warning" });
  for (const reason of DENY_REASONS) decisions.labels({ reason, effect: "deny" });
  const duration = new Histogram({
    name: metricName("admission_review_duration_seconds"),
    help: "Time from receiving an AdmissionReview to answering it, by effect.",
    labelNames: ["effect"] as const,
    buckets: BUCKETS,
    registers,
  });
  return {
    decisions,
    duration,
    failures: new Counter({
      name: metricName("admission_review_failures_total"),
      help: "AdmissionReviews answered without a decision, by error code.",
      labelNames: ["code"] as const,
      registers,
    }),
    events: new Counter({
      name: metricName("admission_events_total"),
      help: "Kubernetes Events for allowed out-of-band changes and for the webhook's own policy denials (not the compiled policies'), by outcome (sent, failed, dropped).",
      labelNames: ["outcome"] as const,
      registers,
    }),
    policies: new Gauge({
      name: metricName("admission_policies"),
      help: "GuardPolicies known to the webhook, by state (valid, invalid).",
      labelNames: ["state"] as const,
      registers,
    }),
    backstopApplies: new Counter({
      name: metricName("admission_backstop_applies_total"),
      help: "ValidatingAdmissionPolicy writes for GuardPolicies, by outcome.",
      labelNames: ["outcome"] as const,
      registers,
    }),
    certificateExpiry: new Gauge({
      name: metricName("admission_certificate_expiry_timestamp_seconds"),
      help: "When the webhook's serving certificate expires (seconds since the epoch).",
      registers,
    }),
    record(decision, seconds) {
      decisions.inc({ reason: decision.reason, effect: decision.effect });
      duration.observe({ effect: decision.effect }, seconds);
    },
  };
}

function reuse(registry: Registry): AdmissionMetrics {
  const get = (name: string): unknown => registry.getSingleMetric(metricName(name));
  const decisions = get("admission_decisions_total") as Counter<"reason" | "effect">;
  const duration = get("admission_review_duration_seconds") as Histogram<"effect">;
  return {
    decisions,
    duration,
    failures: get("admission_review_failures_total") as Counter<"code">,
    events: get("admission_events_total") as Counter<"outcome">,
    policies: get("admission_policies") as Gauge<"state">,
    backstopApplies: get("admission_backstop_applies_total") as Counter<"outcome">,
    certificateExpiry: get("admission_certificate_expiry_timestamp_seconds") as Gauge,
    record(decision, seconds) {
      decisions.inc({ reason: decision.reason, effect: decision.effect });
      duration.observe({ effect: decision.effect }, seconds);
    },
  };
}
