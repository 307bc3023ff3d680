// Drift-to-alert latency inside the auditor: from a changed object state reaching the drift
// tracker, through the field diff, the chained journal append and the alert queue, to a signed
// generic-webhook POST arriving at a local HTTP sink. Baseline: the same POST sent directly.
// The watch delay of the API server is not included (see test/auditor/*.int.test.ts).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { alertFromRecord } from "../../src/auditor/alerts/alert.js";
import { AlertDispatcher } from "../../src/auditor/alerts/dispatcher.js";
import { createSink } from "../../src/auditor/alerts/sinks.js";
import { DriftTracker } from "../../src/auditor/drift-tracker.js";
import { JournalStore } from "../../src/auditor/journal/store.js";
import { createAuditorMetrics } from "../../src/auditor/metrics.js";
import { DriftRecorder } from "../../src/auditor/recorder.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { fmt, median, percentile, ratioLine } from "./stats.js";

const DRIFTS = 300;

function deployment(i: number, replicas: number): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: `web-${String(i)}`, namespace: "shop", resourceVersion: String(replicas) },
    spec: { replicas, template: { spec: { containers: [{ name: "web", image: "web:1" }] } } },
  };
}

async function main(): Promise<void> {
  let arrived: (() => void) | undefined;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200).end();
      arrived?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/hook`;
  const dir = mkdtempSync(join(tmpdir(), "drift-alert-bench-"));
  const clock = realClock();
  const journal = JournalStore.open(join(dir, "journal.db"), clock);
  const logger = createLogger({ level: "silent" });
  const sink = createSink({ type: "webhook", id: "bench", url, hmacKey: "k", clock });
  const dispatcher = new AlertDispatcher({ clock, logger, queue: { perMinute: 1e9 } });
  dispatcher.configure([sink]);
  const recorder = new DriftRecorder({
    journal,
    metrics: createAuditorMetrics(createMetrics().registry, () => 0),
    logger,
    onRecord: (record, origin) => {
      const alert = alertFromRecord(record, origin);
      if (alert !== undefined) dispatcher.notify(alert);
    },
  });
  const tracker = new DriftTracker();
  const wait = (): Promise<void> => new Promise((resolve) => (arrived = resolve));
  try {
    const latencies: number[] = [];
    for (let i = 0; i < DRIFTS; i++) {
      tracker.observe(String(i), deployment(i, 2), clock.now(), {});
      const done = wait();
      const start = performance.now();
      const seen = tracker.observe(String(i), deployment(i, 5), clock.now(), {});
      const user = { username: "alice", groups: ["developers"] };
      const attribution = {
        user,
        source: "audit-webhook" as const,
        fieldManagers: ["kubectl-edit (Update)"],
      };
      recorder.drift({
        object: deployment(i, 5),
        changes: seen.changes,
        attribution,
        origin: undefined,
      });
      await done;
      latencies.push(performance.now() - start);
    }
    const direct: number[] = [];
    for (let i = 0; i < DRIFTS; i++) {
      const done = wait();
      const start = performance.now();
      await fetch(url, {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json" },
      });
      await done;
      direct.push(performance.now() - start);
    }
    process.stdout.write(
      `${ratioLine("drift -> journal -> signed alert (median)", median(latencies), median(direct), "ms")}\n`,
    );
    process.stdout.write(
      `  p95 ${fmt(percentile(latencies, 95), 2)} ms, p99 ${fmt(percentile(latencies, 99), 2)} ms over ${String(DRIFTS)} drifts; baseline: a bare POST to the same sink\n`,
    );
  } finally {
    await dispatcher.stop();
    journal.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
