import type { KubeClient } from "../../kube/client.js";
import type { KubeObject, ObjectRef } from "../../kube/objects.js";
import { apiRefusal } from "../../kube/status-errors.js";
import { serverMessage } from "../apply/apply.js";
import { settleLimited } from "../concurrency.js";
import type { ObjectHealth } from "./aggregate.js";
import { healthOf, needsLiveHealth, type Health } from "./rules.js";

/** Reads live objects for health; a cache-backed reader can replace the API (self-heal's watches). */
export type LiveReader = (ref: ObjectRef) => Promise<KubeObject | undefined>;

export function apiReader(kube: KubeClient): LiveReader {
  return (ref) => kube.get(ref);
}

const MISSING: Health = { status: "Progressing", message: "not found in the cluster" };
const HEALTHY: Health = { status: "Healthy", message: "" };

/** Health of each ref: kinds without status are healthy as applied; the others are read live. */
export async function readHealth(
  read: LiveReader,
  refs: readonly ObjectRef[],
  concurrency: number,
): Promise<ObjectHealth[]> {
  const outcomes = await settleLimited(refs, concurrency, async (ref) => {
    if (!needsLiveHealth(ref.kind)) return { ref, health: HEALTHY };
    const live = await read(ref);
    return { ref, health: live === undefined ? MISSING : healthOf(live) };
  });
  return outcomes.map((outcome, i) => {
    if (outcome.status === "fulfilled") return outcome.value;
    const ref = refs[i] as ObjectRef;
    if (apiRefusal(outcome.reason)?.status !== 403) {
      return { ref, health: { status: "Progressing", message: "could not be read" } };
    }
    // The GitSync's account may apply it but not read it: say who may not do what.
    const refused = serverMessage(outcome.reason).slice(0, 1000);
    return {
      ref,
      health: { status: "Progressing", message: `could not be read: ${refused}` },
      refused,
    };
  });
}
