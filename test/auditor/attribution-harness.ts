// What the attribution tests share: ConfigMaps a GitSync applied and a GuardPolicy guards, the
// webhook judging them, and the drift records the auditor writes about them.
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { FIELD_MANAGER } from "../../src/kube/client.js";
import {
  createPolicy,
  kubectl,
  readyOf,
  startAdmission,
  type RunningAdmission,
} from "../admission/harness.js";
import { clientAs, eventually } from "../envtest/context.js";
import { gitSyncWithInventory, ownedConfigMap } from "./harness.js";

export const GUARD_CONFIGMAPS = {
  match: { resources: [{ apiGroups: [""], kinds: ["ConfigMap"] }] },
  // The admin (system:masters) and alice may change them: allowed, and still named.
  exemptions: { users: ["envtest-admin", "alice"] },
};

export function drifts(records: readonly JournalRecord[], ns: string): JournalRecord[] {
  return records.filter((r) => r.type === "drift-detected" && r.object?.namespace === ns);
}

export async function guarded(ns: string, names: readonly string[]): Promise<void> {
  const reconciler = clientAs("reconciler");
  const objects = names.map((name) => ownedConfigMap(ns, name));
  for (const obj of objects) await reconciler.apply(obj, { fieldManager: FIELD_MANAGER });
  await gitSyncWithInventory(ns, objects);
}

/** The webhook and its policy for ns, serving: bob (not exempt) is denied a change of name. */
export async function guardedByWebhook(ns: string, name: string): Promise<RunningAdmission> {
  const running = await startAdmission(ns);
  await guardPolicyReady(ns);
  await webhookServing(ns, name);
  return running;
}

/** GUARD_CONFIGMAPS as the test's GuardPolicy, once Ready (the webhook that compiled it runs). */
export async function guardPolicyReady(ns: string): Promise<void> {
  const policy = await createPolicy(ns, GUARD_CONFIGMAPS);
  await eventually("the policy Ready", async () => (await readyOf(policy))?.["status"] === "True");
}

/** Waits until the webhook judges requests in ns: bob (not exempt) is denied. */
export async function webhookServing(ns: string, name: string): Promise<void> {
  await eventually("the webhook to judge requests", async () => {
    const r = await kubectl("bob", [
      "label",
      "configmap",
      name,
      "-n",
      ns,
      "probe=1",
      "--dry-run=server",
    ]);
    return r.code !== 0 && r.stderr.includes("managed from Git");
  });
}
