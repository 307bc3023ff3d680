// A Helm chart from Git: examples/charts/banner rendered by the reconciler's helm, its values
// from a SOPS file in the same repository (decrypted with the GitSync's age key, never printed).
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { describeSecret, GIT_SYNC, secretData, SYSTEM_NS } from "./cluster.js";
import { until, type Narrator } from "./narrate.js";

export interface ChartContext {
  readonly admin: KubeClient;
  readonly repoDir: string;
  readonly out: Narrator;
}

interface HelmStatus {
  readonly helm?: { chart: string; version: string; valuesDigest: string };
  readonly conditions?: { type: string; status: string }[];
}

const BANNER: KubeObject = {
  ...GIT_SYNC,
  metadata: { name: "banner", namespace: SYSTEM_NS },
  spec: {
    url: "",
    ref: { branch: "main" },
    path: "charts/banner",
    decryption: { provider: "sops", secretRef: { name: "sops-age" } },
    helm: { namespace: "shop", valueFiles: ["charts/banner-values.sops.yaml"] },
  },
};

export async function chartFromGit(c: ChartContext): Promise<void> {
  c.out.step("A Helm chart from Git, its values from a SOPS file beside it");
  const spec = { ...(BANNER["spec"] as object), url: `file://${c.repoDir}` };
  await c.admin.apply({ ...BANNER, spec }, { fieldManager: "kubectl" });
  const status = await until("the chart's sync", async () => {
    const gs = await c.admin.get({ ...GIT_SYNC, namespace: SYSTEM_NS, name: "banner" });
    const s = gs?.["status"] as HelmStatus | undefined;
    const ready = s?.conditions?.some((x) => x.type === "Ready" && x.status === "True") === true;
    return ready && s.helm !== undefined ? s.helm : undefined;
  });
  c.out.say(
    `GitSync banner: chart ${status.chart} ${status.version} rendered with helm template, values ${status.valuesDigest.slice(0, 19)}... (a digest; values never printed)`,
  );
  const banner = await c.admin.get({
    apiVersion: "v1",
    kind: "ConfigMap",
    namespace: "shop",
    name: "banner",
  });
  c.out.say(
    `ConfigMap shop/banner: message=${JSON.stringify((banner?.["data"] as Record<string, string> | undefined)?.["message"])}`,
  );
  const data = await until("the banner Secret", () =>
    secretData(c.admin, "shop", "banner-credentials"),
  );
  c.out.say(
    `Secret shop/banner-credentials holds ${describeSecret(data)}, from the decrypted values file`,
  );
  c.out.result("Helm chart", `${status.chart} ${status.version} applied, values from SOPS`);
}
