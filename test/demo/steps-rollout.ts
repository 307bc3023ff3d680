// Pods that really run (kube-scheduler and kwok's fake Nodes), a bad image that fails its
// rollout and the GitSync's health, and the rollback as a `git revert`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { GIT_SYNC, readySync, requestShopSync, SYSTEM_NS, type SyncStatus } from "./cluster.js";
import { until, type Narrator } from "./narrate.js";
import type { ExampleRepo } from "./repo.js";

export interface RolloutContext {
  readonly admin: KubeClient;
  readonly repo: ExampleRepo;
  readonly out: Narrator;
}

type Pod = KubeObject & {
  spec?: { nodeName?: string; containers?: { image?: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
};

const BAD_IMAGE = "nginx:1.27-crashloop";

function healthy(status: SyncStatus | undefined): { status?: string; message?: string } {
  const c = status?.conditions?.find((x) => x.type === "Healthy") as
    { status?: string; message?: string } | undefined;
  return c ?? {};
}

async function shopStatus(admin: KubeClient): Promise<SyncStatus | undefined> {
  const gs = await admin.get({ ...GIT_SYNC, namespace: SYSTEM_NS, name: "shop" });
  return gs?.["status"] as SyncStatus | undefined;
}

/** The web Pods, once `want` of them run the image and are Ready. */
async function readyPods(
  admin: KubeClient,
  image: string,
  want: number,
): Promise<Pod[] | undefined> {
  const { items } = await admin.list<Pod>(
    { apiVersion: "v1", kind: "Pod" },
    { namespace: "shop", labelSelector: "app=web" },
  );
  const ready = items.filter(
    (p) =>
      p.metadata.deletionTimestamp === undefined &&
      p.spec?.containers?.[0]?.image === image &&
      p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true,
  );
  return ready.length === want ? ready : undefined;
}

function describePods(pods: readonly Pod[]): string {
  return pods
    .map(
      (p) =>
        `  ${p.metadata.name ?? "?"} on ${p.spec?.nodeName ?? "?"}: ${p.status?.phase ?? "?"}, Ready`,
    )
    .join("\n");
}

export async function podsRun(c: RolloutContext): Promise<void> {
  c.out.step("The shop's web Deployment runs: Pods scheduled onto kwok's fake Nodes");
  const pods = await until("2 web Pods Ready", () => readyPods(c.admin, "nginx:1.27", 2));
  c.out.say(`kube-scheduler placed them, kwok's fake kubelets run them:\n${describePods(pods)}`);
  const status = await until("the GitSync Healthy", async () => {
    const s = await shopStatus(c.admin);
    return healthy(s).status === "True" ? s : undefined;
  });
  c.out.say(
    `GitSync shop: Healthy=True (${String(status.inventory?.length ?? 0)} objects, web Available)`,
  );
  c.out.result(
    "Pods running",
    `web: ${String(pods.length)} Pods Ready on ${[...new Set(pods.map((p) => p.spec?.nodeName))].join(", ")}`,
  );
}

export async function badRolloutReverted(c: RolloutContext, repoDir: string): Promise<void> {
  c.out.step("A bad image is committed: the rollout fails, and `git revert` heals it");
  const web = readFileSync(join(repoDir, "shop/web.yaml"), "utf8");
  const bad = c.repo.commit(
    "shop/web.yaml",
    web.replace("nginx:1.27", BAD_IMAGE),
    `web: ${BAD_IMAGE}`,
  );
  c.out.say(`committed ${bad} (web: image ${BAD_IMAGE}, which crashes); asking for a sync`);
  await requestShopSync(c.admin);
  const failed = await until(
    "the rollout's progress deadline",
    async () => {
      const s = await shopStatus(c.admin);
      const h = healthy(s);
      return h.status === "False" && (h.message ?? "").includes("progress deadline")
        ? h
        : undefined;
    },
    120_000,
  );
  c.out.say(`GitSync shop: Healthy=False: ${failed.message ?? ""}`);
  c.out.say("the old Pods keep serving meanwhile (the Deployment's rolling update stops there)");
  const revert = c.repo.revertHead();
  c.out.say(`$ git revert --no-edit HEAD  ->  ${revert}; asking for a sync`);
  await requestShopSync(c.admin);
  await until("the revert applied", () => readySync(c.admin, revert));
  const pods = await until(
    "2 web Pods Ready again",
    () => readyPods(c.admin, "nginx:1.27", 2),
    120_000,
  );
  await until(
    "the GitSync Healthy again",
    async () => {
      const s = await shopStatus(c.admin);
      return healthy(s).status === "True" ? s : undefined;
    },
    120_000,
  );
  c.out.say(`GitSync shop: Healthy=True at ${revert}:\n${describePods(pods)}`);
  c.out.result("rollback", `bad image ${bad} failed its rollout; git revert ${revert} healed it`);
}
