// What the attribution tests share: ConfigMaps a GitSync applied and a GuardPolicy guards, the
// webhook judging them, and the drift records the auditor writes about them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { createKubeClient, FIELD_MANAGER, type KubeClient } from "../../src/kube/client.js";
import { DENIED_ACTION, EVENT_REPORTERS } from "../../src/kube/event-contract.js";
import type { KubeObject } from "../../src/kube/objects.js";
import {
  createPolicy,
  kubectl,
  readyOf,
  startAdmission,
  type RunningAdmission,
} from "../admission/harness.js";
import { clientAs, envtest, eventually } from "../envtest/context.js";
import { kubeconfigYaml } from "../envtest/kubeconfig.js";
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

/** The webhook's attribution facts (Events it wrote about allowed changes) about ns/name. */
export async function factEvents(ns: string, name: string): Promise<KubeObject[]> {
  const { items } = await clientAs("admin").list(
    { apiVersion: "events.k8s.io/v1", kind: "Event" },
    { namespace: ns },
  );
  return items.filter(
    (e) =>
      e["reportingController"] === EVENT_REPORTERS.admission &&
      e["action"] !== DENIED_ACTION &&
      (e["regarding"] as { name?: unknown } | undefined)?.name === name,
  );
}

/**
 * Waits until the webhook writes facts about ns/name, where no denial can show it judges (no
 * policy, or Audit mode): who labels it (probe=<n>, a label Git does not set: no drift) until
 * a fact about it appears. Each try is a write, never a sleep.
 */
export async function factsFlowing(
  ns: string,
  name: string,
  who: "admin" | "alice" | "bob",
): Promise<void> {
  let n = 0;
  await eventually(`the webhook's facts about ${name}`, async () => {
    if ((await factEvents(ns, name)).length > 0) return true;
    n++;
    const r = await kubectl(who, [
      "label",
      "--overwrite",
      "configmap",
      name,
      "-n",
      ns,
      `probe=${String(n)}`,
    ]);
    if (r.code !== 0) throw new Error(`probe label failed: ${r.stderr}`);
    return false;
  });
}

export interface ServiceAccountUser {
  readonly client: KubeClient;
  readonly username: string;
  /** The ServiceAccount's metadata.uid: the UID its tokens authenticate with. */
  readonly uid: string;
}

/**
 * A ServiceAccount of ns allowed to edit there (ClusterRole edit), and a client with a token of
 * it: unlike the test's certificate users, the API server gives it a UID.
 */
export async function serviceAccountUser(ns: string, name: string): Promise<ServiceAccountUser> {
  const admin = clientAs("admin");
  const sa = await admin.create({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace: ns },
  });
  await admin.create({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: `${name}-edit`, namespace: ns },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
    subjects: [{ kind: "ServiceAccount", name, namespace: ns }],
  });
  const review = await admin.rest.json<{ status: { token: string } }>({
    method: "POST",
    path: `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`,
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    },
  });
  const info = envtest();
  const file = join(info.dir, `${ns}-${name}.kubeconfig`);
  writeFileSync(
    file,
    kubeconfigYaml({
      name,
      server: info.apiServerUrl,
      caCert: info.caCert,
      token: review.status.token,
    }),
    { mode: 0o600 },
  );
  const uid = sa.metadata.uid;
  if (uid === undefined) throw new Error(`ServiceAccount ${ns}/${name} has no uid`);
  return {
    client: createKubeClient({ kubeconfig: file }),
    username: `system:serviceaccount:${ns}:${name}`,
    uid,
  };
}
