// Self-heal on the real API server: an out-of-band edit is undone within a watch event and one
// apply, a deletion re-creates, an HPA's scale is left alone, break-glass pauses healing until it
// expires, selfHeal: false only reports, and a fight with another field manager backs off.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import type { GitSyncObject } from "../../src/reconciler/gitsync.js";
import { OWNER_NAME_LABEL } from "../../src/reconciler/names.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  eventsOf,
  putGitSync,
  requestSync,
  startReconciler,
  waitForApplied,
  waitForGitSync,
  type Harness,
} from "./helpers/harness.js";
import { configMap, deployment, yaml } from "./helpers/manifests.js";

const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;
const DEPLOY = { apiVersion: "apps/v1", kind: "Deployment" } as const;
type Cm = KubeObject & { data?: Record<string, string> };

let harness: Harness;
beforeAll(async () => {
  harness = await startReconciler({ healLoopThreshold: 3, healBackoffMs: 4_000 });
});
afterAll(async () => {
  await harness.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A GitSync "apps" in ns applying files, Ready at that commit. */
async function synced(
  ns: string,
  files: Record<string, string>,
  spec: Record<string, unknown> = {},
): Promise<GitRepo> {
  const repo = await GitRepo.create();
  const commit = await repo.commit("apps", files);
  await putGitSync(ns, "apps", { url: repo.url, ...spec });
  await waitForApplied(ns, "apps", commit);
  return repo;
}

async function value(ns: string, name: string): Promise<string | undefined> {
  const cm = await clientAs("admin").get<Cm>({ ...CM, namespace: ns, name });
  return cm?.data?.["v"];
}

/** An exempt admin's edit (the webhook is not in the way: data flow 4). */
async function edit(
  ns: string,
  name: string,
  patch: object,
  manager = "kubectl-edit",
): Promise<void> {
  await clientAs("admin").mergePatch({ ...CM, namespace: ns, name }, patch, {
    fieldManager: manager,
  });
}

/** ms from now until check holds (polled every 10 ms), or undefined after limitMs. */
async function timeUntil(
  check: () => Promise<boolean>,
  limitMs: number,
): Promise<number | undefined> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    if (await check()) return performance.now() - start;
    // The poll period of this condition wait, not a wait for nothing: 10 ms bounds the timing error.
    await sleep(10);
  }
  return undefined;
}

function drifted(ns: string, reason: string): Promise<GitSyncObject> {
  return waitForGitSync(ns, "apps", `Drifted ${reason}`, (o) => {
    const c = condition(o, "Drifted");
    return c?.status === "True" && c.reason === reason;
  });
}

describe("self-heal", () => {
  it("undoes an exempt admin's edit within one watch event and one apply, and re-creates a deleted object", async () => {
    const ns = await testNamespace("heal");
    await synced(ns, { "a.yaml": yaml(configMap("a", { v: "1" })) });
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      // A different manager each time: five heals against one manager would be a fight.
      await edit(ns, "a", { data: { v: `edited-${String(i)}` } }, `kubectl-edit-${String(i)}`);
      const healed = await timeUntil(async () => (await value(ns, "a")) === "1", 5_000);
      expect(healed, `edit ${String(i)} healed`).toBeDefined();
      times.push(performance.now() - start);
    }
    // CI shares two cores with other suites: a generous bound (the bench measures the real figure).
    expect(Math.max(...times)).toBeLessThan(2_000);

    const before = await clientAs("admin").get({ ...CM, namespace: ns, name: "a" });
    await clientAs("admin").delete({ ...CM, namespace: ns, name: "a" });
    await eventually(
      "a to be re-created",
      async () => {
        const again = await clientAs("admin").get<Cm>({ ...CM, namespace: ns, name: "a" });
        return again?.data?.["v"] === "1" && again.metadata.uid !== before?.metadata.uid;
      },
      5_000,
    );

    // Removing the owner label takes the object out of the watch: it comes back like a delete.
    await edit(ns, "a", { metadata: { labels: { [OWNER_NAME_LABEL]: null } } });
    await eventually(
      "the owner label to be healed",
      async () => {
        const cm = await clientAs("admin").get<Cm>({ ...CM, namespace: ns, name: "a" });
        return cm?.metadata.labels?.[OWNER_NAME_LABEL] === "apps";
      },
      5_000,
    );

    const events = await eventsOf(ns, "apps");
    expect(events).toContainEqual({
      type: "Normal",
      reason: "SelfHealed",
      message: `ConfigMap ${ns}/a: /data/v put back as Git says (changed by kubectl-edit-0)`,
    });
    const metrics = await harness.metrics.text();
    expect(metrics).toMatch(
      /gitops_guard_selfheal_latency_seconds_count\{kind="ConfigMap"\} [1-9]/,
    );
    expect(metrics).toMatch(/gitops_guard_selfheal_drift_healed_total\{kind="ConfigMap"\} [1-9]/);
  });

  it("leaves /spec/replicas to an HPA that targets the Deployment, and heals the rest", async () => {
    const ns = await testNamespace("hpa");
    const repo = await synced(ns, { "web.yaml": yaml(deployment("web", 1, { team: "a" })) });
    await clientAs("admin").create({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", namespace: ns },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
        minReplicas: 1,
        maxReplicas: 5,
      },
    });
    await sleep(300); // the HPA's watch event
    const ref = { ...DEPLOY, namespace: ns, name: "web" };
    const read = async (): Promise<KubeObject & { spec?: { replicas?: number } }> =>
      (await clientAs("admin").get(ref)) ?? { ...DEPLOY, metadata: {} };
    await clientAs("admin").mergePatch(ref, { spec: { replicas: 3 } }, { fieldManager: "hpa-sim" });

    // Another field Git sets is still healed, and the heal keeps the HPA's replicas: a heal
    // applies the whole object, and this edit's comes after the replicas' event, so replicas
    // still 3 once it is healed shows neither heal took them.
    await clientAs("admin").mergePatch(
      ref,
      { metadata: { annotations: { team: "b" } } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually(
      "the annotation to be healed",
      async () => (await read()).metadata.annotations?.["team"] === "a",
      5_000,
    );
    expect((await read()).spec?.replicas).toBe(3);

    // A later sync (a new commit) does not reset them either: the ignore holds for every apply.
    const next = await repo.commit("more", { "cm.yaml": yaml(configMap("more", { v: "1" })) });
    await requestSync(ns, "apps");
    await waitForApplied(ns, "apps", next);
    const after = await read();
    expect(after.spec?.replicas).toBe(3);
    expect(after.metadata.annotations?.["team"]).toBe("a");
  });

  it("leaves fields in spec.ignoreFields alone, in the comparison and in the heal", async () => {
    const ns = await testNamespace("ignore");
    await synced(
      ns,
      { "a.yaml": yaml(configMap("a", { v: "1", w: "1" })) },
      { ignoreFields: [{ kinds: ["ConfigMap"], jsonPointers: ["/data/v"] }] },
    );
    await edit(ns, "a", { data: { v: "mine", w: "mine" } });
    await eventually(
      "w to be healed",
      async () => {
        const cm = await clientAs("admin").get<Cm>({ ...CM, namespace: ns, name: "a" });
        return cm?.data?.["w"] === "1";
      },
      5_000,
    );
    expect(await value(ns, "a")).toBe("mine");
  });

  it("does not heal a break-glass edit until it expires, then heals it", async () => {
    const ns = await testNamespace("glass");
    await synced(ns, { "a.yaml": yaml(configMap("a", { v: "1" })) });
    const expires = new Date(Math.ceil((Date.now() + 3_000) / 1000) * 1000);
    await edit(ns, "a", {
      metadata: {
        annotations: {
          "gitops-guard.io/break-glass": "INC-42",
          "gitops-guard.io/break-glass-expires": expires.toISOString().replace(".000Z", "Z"),
        },
      },
      data: { v: "glass" },
    });
    const paused = await drifted(ns, "BreakGlass");
    expect(condition(paused, "Drifted")?.message).toContain(
      `ConfigMap ${ns}/a differs from Git at /data/v`,
    );
    await sleep(Math.max(0, expires.getTime() - Date.now() - 800));
    expect(await value(ns, "a")).toBe("glass");
    await eventually(
      "the edit to be healed after the expiry",
      async () => (await value(ns, "a")) === "1",
      8_000,
    );
    await waitForGitSync(
      ns,
      "apps",
      "Drifted False",
      (o) => condition(o, "Drifted")?.status === "False",
    );
  });

  it("with selfHeal: false reports Drifted, naming the object, fields and manager, and heals nothing", async () => {
    const ns = await testNamespace("report");
    await synced(ns, { "a.yaml": yaml(configMap("a", { v: "1", w: "1" })) }, { selfHeal: false });
    await edit(ns, "a", { data: { v: "2" } });
    const report = await drifted(ns, "SelfHealDisabled");
    const message = condition(report, "Drifted")?.message ?? "";
    expect(message).toContain(`ConfigMap ${ns}/a differs from Git at /data/v`);
    expect(message).not.toContain("/data/w");
    expect(message).toContain("kubectl-edit");
    // A later edit of the same object, once reported, shows self-heal has handled the first
    // one's event (one object's events are handled in order): it left /data/v as edited.
    await edit(ns, "a", { data: { w: "2" } });
    await waitForGitSync(ns, "apps", "Drifted naming /data/w", (o) =>
      (condition(o, "Drifted")?.message ?? "").includes("/data/w"),
    );
    expect(await value(ns, "a")).toBe("2");
  });

  it("backs off from a fight with another field manager and names it in Drifted", async () => {
    const ns = await testNamespace("fight");
    await synced(ns, { "a.yaml": yaml(configMap("a", { v: "1" })) });
    const fighter = clientAs("admin");
    let heals = 0;
    const rounds = 8;
    for (let i = 0; i < rounds; i++) {
      await fighter.apply(
        { ...CM, metadata: { name: "a", namespace: ns }, data: { v: "theirs" } },
        { fieldManager: "other-controller", force: true },
      );
      if ((await timeUntil(async () => (await value(ns, "a")) === "1", 1_500)) !== undefined)
        heals++;
    }
    expect(heals).toBeGreaterThanOrEqual(3);
    expect(heals).toBeLessThan(rounds);
    const report = await drifted(ns, "HealLoop");
    expect(condition(report, "Drifted")?.message).toContain("field manager other-controller");
    expect(await harness.metrics.text()).toMatch(
      /gitops_guard_selfheal_loops_total\{kind="ConfigMap"\} [1-9]/,
    );
  });
});
