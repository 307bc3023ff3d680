import { describe, expect, it, onTestFinished } from "vitest";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import { Informer } from "../../src/kube/informer.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";
import { clientAs, envtest, eventually, testNamespace } from "../envtest/context.js";
import { extraApiServer } from "../envtest/extra-apiserver.js";

const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;
const cm = (namespace: string, name: string, value: string): KubeObject => ({
  ...CM,
  metadata: { name, namespace, labels: { owner: "informer-test" } },
  data: { value },
});

interface Seen {
  events: string[];
  errors: unknown[];
}

function startInformer(client: KubeClient, namespace: string): { informer: Informer; seen: Seen } {
  const seen: Seen = { events: [], errors: [] };
  const informer = new Informer({
    // The label keeps out kube-root-ca.crt, which the controller manager adds to every namespace.
    client,
    type: CM,
    namespace,
    labelSelector: "owner=informer-test",
    clock: realClock(),
    backoff: { initialMs: 200, maxMs: 2000 },
    onError: (err) => seen.errors.push(err),
  });
  const value = (o: KubeObject): string =>
    (o["data"] as { value?: string } | undefined)?.value ?? "";
  informer.on("add", (o) => seen.events.push(`add ${o.metadata.name ?? ""}=${value(o)}`));
  informer.on("update", (o) => seen.events.push(`update ${o.metadata.name ?? ""}=${value(o)}`));
  informer.on("delete", (o) => seen.events.push(`delete ${o.metadata.name ?? ""}`));
  informer.start();
  onTestFinished(() => informer.stop());
  return { informer, seen };
}

describe("informer against the real API server", () => {
  it("sees add, update and delete, and keeps a cache equal to the server", async () => {
    const ns = await testNamespace("inf");
    const kube = clientAs("admin");
    await kube.apply(cm(ns, "before", "0"));
    const { informer, seen } = startInformer(kube, ns);
    await informer.waitForSync();
    expect(informer.synced()).toBe(true);
    expect(informer.get("before", ns)?.["data"]).toEqual({ value: "0" });
    await kube.apply(cm(ns, "a", "1"));
    await kube.apply(cm(ns, "a", "2"));
    await kube.delete({ ...CM, namespace: ns, name: "before" });
    await eventually("the informer to see the delete", () => seen.events.includes("delete before"));
    expect(seen.events).toEqual(["add before=0", "add a=1", "update a=2", "delete before"]);
    expect(informer.list(ns).map((o) => o.metadata.name)).toEqual(["a"]);
    expect(seen.errors).toEqual([]);
  });

  it("recovers after the API server stops and starts again, with nothing missed after the relist", async () => {
    const ns = await testNamespace("outage");
    const info = envtest();
    const server = await extraApiServer(info);
    await server.start();
    onTestFinished(() => server.stop());
    const viaExtra = createKubeClient({ kubeconfig: server.kubeconfig });
    const viaMain = clientAs("admin");
    await viaMain.apply(cm(ns, "keep", "1"));
    await viaMain.apply(cm(ns, "gone", "1"));
    const { informer, seen } = startInformer(viaExtra, ns);
    await informer.waitForSync();

    await server.stop();
    // While the informer's server is down, the cluster changes through the other one.
    await viaMain.apply(cm(ns, "keep", "2"));
    await viaMain.delete({ ...CM, namespace: ns, name: "gone" });
    await viaMain.apply(cm(ns, "new", "1"));
    await eventually("the informer to notice the outage", () => seen.errors.length > 0);
    await server.start();

    await eventually("the relist to catch up", () => informer.get("new", ns) !== undefined, 60_000);
    expect(seen.events).toEqual(
      expect.arrayContaining(["update keep=2", "delete gone", "add new=1"]),
    );
    const truth = await viaMain.list(CM, { namespace: ns, labelSelector: "owner=informer-test" });
    const cached = informer
      .list(ns)
      .map((o) => [o.metadata.name, o.metadata.resourceVersion])
      .sort();
    expect(cached).toEqual(
      truth.items.map((o) => [o.metadata.name, o.metadata.resourceVersion]).sort(),
    );
    // And it keeps watching after the recovery.
    await viaMain.apply(cm(ns, "after", "1"));
    await eventually("a watch event after recovery", () => seen.events.includes("add after=1"));
  });
});
