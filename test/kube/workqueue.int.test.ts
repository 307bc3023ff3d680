import { describe, expect, it, onTestFinished } from "vitest";
import { Informer } from "../../src/kube/informer.js";
import { keyOf, parseKey, type KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";
import { runWorkers } from "../../src/runtime/controller.js";
import { WorkQueue } from "../../src/runtime/queue.js";
import { done } from "../../src/runtime/result.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";

const CM = { apiVersion: "v1", kind: "ConfigMap" } as const;
const KEYS = ["alpha", "beta", "gamma"];
const UPDATES_PER_KEY = 15;

describe("informer → work queue → workers, against the real API server", () => {
  it("never runs one key twice at once under concurrent adds, and ends on the latest state", async () => {
    const ns = await testNamespace("queue");
    const kube = clientAs("admin");
    const clock = realClock();
    const informer = new Informer({
      client: kube,
      type: CM,
      namespace: ns,
      labelSelector: "queue-test=yes",
      clock,
    });
    const queue = new WorkQueue<string>({ clock });
    const enqueue = (o: KubeObject): void => {
      queue.add(keyOf({ namespace: o.metadata.namespace, name: o.metadata.name ?? "" }));
    };
    informer.on("add", enqueue);
    informer.on("update", enqueue);
    informer.start();
    await informer.waitForSync();

    const running = new Map<string, number>();
    let maxConcurrentPerKey = 0;
    let maxConcurrentOverall = 0;
    const lastSeen = new Map<string, string>();
    const abort = new AbortController();
    const workers = runWorkers({
      queue,
      workers: 4,
      signal: abort.signal,
      clock,
      reconcile: async (key) => {
        running.set(key, (running.get(key) ?? 0) + 1);
        maxConcurrentPerKey = Math.max(maxConcurrentPerKey, running.get(key) ?? 0);
        maxConcurrentOverall = Math.max(
          maxConcurrentOverall,
          [...running.values()].reduce((a, b) => a + b, 0),
        );
        try {
          // Real work with real latency: read the live object, as a reconcile would.
          const live = await kube.get({ ...CM, ...parseKey(key) });
          lastSeen.set(key, (live?.["data"] as { n?: string } | undefined)?.n ?? "");
          return done();
        } finally {
          running.set(key, (running.get(key) ?? 1) - 1);
        }
      },
    });
    onTestFinished(async () => {
      abort.abort();
      queue.shutDown();
      await workers;
      await informer.stop();
    });

    // Every key is updated many times concurrently; each event adds the key again.
    await Promise.all(
      KEYS.map(async (name) => {
        for (let n = 1; n <= UPDATES_PER_KEY; n++) {
          await kube.apply({
            ...CM,
            metadata: { name, namespace: ns, labels: { "queue-test": "yes" } },
            data: { n: String(n) },
          });
        }
      }),
    );
    const final = String(UPDATES_PER_KEY);
    await eventually(
      "every key reconciled at its latest state",
      () => KEYS.every((name) => lastSeen.get(`${ns}/${name}`) === final) && queue.len() === 0,
    );
    expect(maxConcurrentPerKey).toBe(1);
    // The workers did run in parallel across keys, so the per-key bound is not trivial.
    expect(maxConcurrentOverall).toBeGreaterThan(1);
  });
});
