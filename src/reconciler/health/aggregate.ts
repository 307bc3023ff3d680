import type { ObjectRef } from "../../kube/objects.js";
import type { Health, HealthStatus } from "./rules.js";

/** One object's verdict, for the GitSync's Healthy condition. */
export interface ObjectHealth {
  readonly ref: ObjectRef;
  readonly health: Health;
  /** The API server refused the read (403): its message, naming the user and the verb. */
  readonly refused?: string;
}

export interface HealthSummary {
  readonly status: HealthStatus;
  /** Objects that are not healthy, worst first. */
  readonly unhealthy: readonly ObjectHealth[];
  readonly total: number;
  readonly message: string;
  /** The first object whose read was refused (403), and the API server's words. */
  readonly refused?: string;
}

const SEVERITY: Readonly<Record<HealthStatus, number>> = {
  Healthy: 0,
  Progressing: 1,
  Degraded: 2,
};
const SHOWN = 5;

function objects(n: number): string {
  return n === 1 ? "1 object" : `${n} objects`;
}

function describe(item: ObjectHealth, message = item.health.message): string {
  const { ref } = item;
  const where = ref.namespace === undefined ? ref.name : `${ref.namespace}/${ref.name}`;
  return `${ref.kind} ${where}: ${message}`;
}

/** The worst verdict wins (Argo CD's rule); the message names the first few culprits. Pure. */
export function summarizeHealth(items: readonly ObjectHealth[]): HealthSummary {
  const unhealthy = items
    .filter((i) => i.health.status !== "Healthy")
    .sort((a, b) => SEVERITY[b.health.status] - SEVERITY[a.health.status]);
  const worst = unhealthy[0]?.health.status ?? "Healthy";
  if (worst === "Healthy") {
    return {
      status: worst,
      unhealthy,
      total: items.length,
      message: `${objects(items.length)} healthy`,
    };
  }
  const more = unhealthy.length > SHOWN ? ` (and ${unhealthy.length - SHOWN} more)` : "";
  const message =
    `${unhealthy.length} of ${objects(items.length)} not healthy: ` +
    unhealthy
      .slice(0, SHOWN)
      .map((i) => describe(i))
      .join("; ") +
    more;
  const summary = { status: worst, unhealthy, total: items.length, message };
  const refused = unhealthy.find((i) => i.refused !== undefined);
  if (refused?.refused === undefined) return summary;
  return { ...summary, refused: describe(refused, refused.refused) };
}
