import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { metricName } from "../telemetry/metrics.js";

/**
 * The reconciler's metrics on the process registry: per-GitSync reconcile duration (Flux's
 * gotk_reconcile_duration_seconds), Ready as a number (1 True, 0 False, -1 Unknown), and the
 * applied revision as an info-style gauge (value 1, revision in a label).
 */
export interface ReconcilerMetrics {
  readonly duration: Histogram<"namespace" | "name">;
  readonly ready: Gauge<"namespace" | "name">;
  readonly revision: Gauge<"namespace" | "name" | "revision">;
  /**
   * Objects a sync sent to the API server, and those it did not send because neither Git nor
   * the cluster changed them since its last apply.
   */
  readonly applies: Counter<"namespace" | "name" | "outcome">;
  /** Pushes received on /hooks/git, by sender and what came of them. */
  readonly pushes: Counter<"provider" | "outcome">;
}

// A sync spans a cached fetch (tens of ms) to a large first apply (minutes).
const BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 600];

/** Registers the metrics, or returns those already on registry (one set per registry). */
export function reconcilerMetrics(registry: Registry): ReconcilerMetrics {
  const registers = [registry];
  const durationName = metricName("gitsync_reconcile_duration_seconds");
  const readyName = metricName("gitsync_ready");
  const revisionName = metricName("gitsync_revision_info");
  const pushesName = metricName("git_pushes_total");
  const appliesName = metricName("gitsync_applies_total");
  return {
    duration:
      (registry.getSingleMetric(durationName) as Histogram<"namespace" | "name"> | undefined) ??
      new Histogram({
        name: durationName,
        help: "Time one GitSync reconcile took (fetch, render, apply, prune, health).",
        labelNames: ["namespace", "name"] as const,
        buckets: BUCKETS,
        registers,
      }),
    ready:
      (registry.getSingleMetric(readyName) as Gauge<"namespace" | "name"> | undefined) ??
      new Gauge({
        name: readyName,
        help: "The GitSync's Ready condition: 1 True, 0 False, -1 Unknown.",
        labelNames: ["namespace", "name"] as const,
        registers,
      }),
    revision:
      (registry.getSingleMetric(revisionName) as
        Gauge<"namespace" | "name" | "revision"> | undefined) ??
      new Gauge({
        name: revisionName,
        help: "The revision a GitSync last applied in full; the value is always 1.",
        labelNames: ["namespace", "name", "revision"] as const,
        registers,
      }),
    applies:
      (registry.getSingleMetric(appliesName) as
        Counter<"namespace" | "name" | "outcome"> | undefined) ??
      new Counter({
        name: appliesName,
        help: "Objects a sync applied (outcome sent), or left alone as unchanged since its last apply (outcome skipped).",
        labelNames: ["namespace", "name", "outcome"] as const,
        registers,
      }),
    pushes:
      (registry.getSingleMetric(pushesName) as Counter<"provider" | "outcome"> | undefined) ??
      new Counter({
        name: pushesName,
        help: "Git pushes received (outcome: synced, unmatched, refused, ping, ignored, error).",
        labelNames: ["provider", "outcome"] as const,
        registers,
      }),
  };
}

const READY_VALUE = { True: 1, False: 0, Unknown: -1 } as const;

interface GitSyncId {
  readonly namespace: string;
  readonly name: string;
}

/** Records per-GitSync series and removes them when the GitSync goes (no stale series). */
export class GitSyncMetrics {
  private readonly metrics: ReconcilerMetrics;
  /** The revision label each GitSync's info series carries now. */
  private readonly revisions = new Map<string, string>();

  constructor(metrics: ReconcilerMetrics) {
    this.metrics = metrics;
  }

  observeDuration(id: GitSyncId, seconds: number): void {
    this.metrics.duration.observe({ ...id }, seconds);
  }

  ready(id: GitSyncId, status: keyof typeof READY_VALUE): void {
    this.metrics.ready.set({ ...id }, READY_VALUE[status]);
  }

  /** One revision series per GitSync: the old one goes when the revision moves. */
  revision(id: GitSyncId, revision: string): void {
    const key = `${id.namespace}/${id.name}`;
    const previous = this.revisions.get(key);
    if (previous !== undefined && previous !== revision) {
      this.metrics.revision.remove({ ...id, revision: previous });
    }
    this.revisions.set(key, revision);
    this.metrics.revision.set({ ...id, revision }, 1);
  }

  /** Counts a sync's applies: sent to the server, or skipped as unchanged. */
  applies(id: GitSyncId, applied: readonly { readonly skipped?: true }[]): void {
    const skipped = applied.filter((a) => a.skipped === true).length;
    this.metrics.applies.inc({ ...id, outcome: "sent" }, applied.length - skipped);
    this.metrics.applies.inc({ ...id, outcome: "skipped" }, skipped);
  }

  forget(id: GitSyncId): void {
    const key = `${id.namespace}/${id.name}`;
    for (const outcome of ["sent", "skipped"]) this.metrics.applies.remove({ ...id, outcome });
    this.metrics.ready.remove({ ...id });
    this.metrics.duration.remove({ ...id });
    const previous = this.revisions.get(key);
    if (previous !== undefined) this.metrics.revision.remove({ ...id, revision: previous });
    this.revisions.delete(key);
  }
}
