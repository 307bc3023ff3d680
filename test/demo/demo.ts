// `npm run demo`: gitops-guard on a real local control plane (kube-apiserver, etcd and
// kube-controller-manager built from source by test/envtest), narrated step by step. Each
// component adds its chapter as it lands; today: the identities, server-side apply as the
// reconciler, and an out-of-band edit seen by an informer with who changed which field.
import { startControlPlane, type ControlPlaneInfo } from "../envtest/control-plane.js";
import { createKubeClient } from "../../src/kube/client.js";
import { Informer } from "../../src/kube/informer.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";

const say = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

function configMap(data: Record<string, string>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "shop-settings", namespace: "demo" },
    data,
  };
}

async function chapterDrift(info: ControlPlaneInfo): Promise<void> {
  const as = (who: "admin" | "reconciler" | "alice"): ReturnType<typeof createKubeClient> =>
    createKubeClient({ kubeconfig: info.kubeconfigs[who] });
  await as("admin").create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "demo" } });
  say(
    "\n1. The reconciler applies what Git says, with server-side apply as field manager gitops-guard:",
  );
  const applied = await as("reconciler").apply(configMap({ currency: "EUR", checkout: "enabled" }));
  say(`   ConfigMap demo/shop-settings resourceVersion ${applied.metadata.resourceVersion ?? "?"}`);
  const again = await as("reconciler").apply(configMap({ currency: "EUR", checkout: "enabled" }));
  say(
    `   applied again, unchanged: resourceVersion ${again.metadata.resourceVersion ?? "?"} (idempotent)`,
  );

  const informer = new Informer({
    client: as("admin"),
    type: { apiVersion: "v1", kind: "ConfigMap" },
    namespace: "demo",
    clock: realClock(),
  });
  const seen = new Promise<KubeObject>((resolve) =>
    informer.on("update", (obj) => {
      resolve(obj);
    }),
  );
  informer.start();
  await informer.waitForSync();
  say("\n2. alice (group developers) edits it out of band, as `kubectl edit` would:");
  await as("alice").apply(configMap({ checkout: "disabled" }), {
    fieldManager: "kubectl-edit",
    force: true,
  });
  const edited = await seen;
  const managers = (edited.metadata.managedFields ?? []).map(
    (m) =>
      `${m.manager ?? "?"} (${m.operation ?? "?"}) owns ${Object.keys((m.fieldsV1 as { "f:data"?: object } | undefined)?.["f:data"] ?? {}).join(", ")}`,
  );
  say(`   the watch saw it at once: data is now ${JSON.stringify(edited["data"])}`);
  for (const line of managers) say(`   managedFields: ${line}`);
  say("   (the admission webhook will deny this edit, and the auditor will record and heal it)");

  say("\n3. The reconciler heals the drift by applying Git again:");
  const healed = await as("reconciler").apply(configMap({ currency: "EUR", checkout: "enabled" }));
  say(`   data is back to ${JSON.stringify(healed["data"])}`);
  await informer.stop();
}

const started = performance.now();
say(
  "Starting a real control plane on loopback (first run builds it from source: several minutes)...",
);
const cp = await startControlPlane();
try {
  say(`kube-apiserver ready at ${cp.info.apiServerUrl} in ${cp.info.startMs} ms`);
  await chapterDrift(cp.info);
  say(`\ndemo finished in ${Math.round((performance.now() - started) / 1000)} s`);
} finally {
  await cp.stop();
}
