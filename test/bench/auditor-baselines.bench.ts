// What keeping the auditor's baselines on disk (so edits made while it is down are found) costs
// per watched change: the drift tracker's work for status-only updates (the common case, no
// write), Git changes (one write each) and first sight, with the SQLite store against the same
// tracker without it, in the same run. Also the start-up restore of every kept object.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DriftTracker, type TrackerListener } from "../../src/auditor/drift-tracker.js";
import { BaselineStore } from "../../src/auditor/journal/baseline-store.js";
import { whereOf } from "../../src/auditor/restore.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { fmt, median, ratioLine } from "./stats.js";

const OBJECTS = 2_000;
const ROUNDS = 5;

function deployment(i: number, rv: number, image: string): KubeObject {
  const name = `web-${String(i)}`;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace: "shop",
      uid: `uid-${String(i)}`,
      resourceVersion: String(rv),
      generation: 3,
      labels: { app: name, "gitops-guard.io/gitsync-name": "shop" },
      annotations: { "deployment.kubernetes.io/revision": "3" },
      managedFields: [
        {
          manager: "gitops-guard",
          operation: "Apply",
          time: "2026-11-23T08:00:00Z",
          fieldsType: "FieldsV1",
          fieldsV1: { "f:spec": { "f:replicas": {}, "f:template": { "f:spec": {} } } },
        },
        {
          manager: "kube-controller-manager",
          operation: "Update",
          subresource: "status",
          time: "2026-11-23T08:00:01Z",
          fieldsType: "FieldsV1",
          fieldsV1: { "f:status": { "f:replicas": {}, "f:conditions": {} } },
        },
      ],
    },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: "web",
              image,
              ports: [{ containerPort: 8080 }],
              env: [{ name: "LOG_LEVEL", value: "info" }],
              resources: { requests: { cpu: "100m", memory: "128Mi" } },
            },
          ],
        },
      },
    },
    status: { replicas: 3, readyReplicas: rv % 3, observedGeneration: 3 },
  };
}

interface Figures {
  firstSeenUs: number;
  statusUs: number;
  gitUs: number;
  restoreMs?: number;
}

function perObjectUs(startNs: bigint, count: number): number {
  return Number(process.hrtime.bigint() - startNs) / 1000 / count;
}

function run(listener: TrackerListener | undefined): Figures {
  const tracker = new DriftTracker(listener);
  let start = process.hrtime.bigint();
  for (let i = 0; i < OBJECTS; i++)
    tracker.observe(`id-${String(i)}`, deployment(i, 1, "web:1"), 0, {});
  const firstSeenUs = perObjectUs(start, OBJECTS);
  const status: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    start = process.hrtime.bigint();
    for (let i = 0; i < OBJECTS; i++) {
      const obj = deployment(i, 2 + round, "web:1");
      // As audit-object.ts settles a change the diff calls noise.
      if (tracker.observe(`id-${String(i)}`, obj, round, {}).kind !== "noise") {
        throw new Error("a status-only update should be noise");
      }
      tracker.noise(`id-${String(i)}`, obj, round);
    }
    status.push(perObjectUs(start, OBJECTS));
  }
  start = process.hrtime.bigint();
  for (let i = 0; i < OBJECTS; i++) {
    const obj = deployment(i, 100, "web:2");
    tracker.observe(`id-${String(i)}`, obj, 100, {});
    tracker.accept(`id-${String(i)}`, obj, 100);
  }
  const gitUs = perObjectUs(start, OBJECTS);
  return { firstSeenUs, statusUs: median(status), gitUs };
}

function withStore(): Figures {
  const dir = mkdtempSync(join(tmpdir(), "gg-baselines-bench-"));
  const path = join(dir, "baselines.db");
  try {
    const store = BaselineStore.open(path);
    const figures = run((id, state) => {
      store.keep(id, whereOf(state), state);
    });
    store.close();
    const start = process.hrtime.bigint();
    const reopened = BaselineStore.open(path);
    const tracker = new DriftTracker();
    for (const kept of reopened.load()) tracker.restore(kept.id, kept.state);
    const restoreMs = Number(process.hrtime.bigint() - start) / 1e6;
    reopened.close();
    return { ...figures, restoreMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const plain: Figures[] = [];
  const kept: Figures[] = [];
  // Alternating order, three rounds each: the machine's noise falls on both alike.
  for (let round = 0; round < 3; round++) {
    if (round % 2 === 0) {
      plain.push(run(undefined));
      kept.push(withStore());
    } else {
      kept.push(withStore());
      plain.push(run(undefined));
    }
  }
  const m = (figures: Figures[], pick: (f: Figures) => number): number => median(figures.map(pick));
  process.stdout.write(
    `${String(OBJECTS)} Deployments, ${String(ROUNDS)} status-only rounds, 1 Git change each; medians of 3 rounds\n`,
  );
  const line = (label: string, pick: (f: Figures) => number): void => {
    process.stdout.write(`${ratioLine(label, m(kept, pick), m(plain, pick), "µs/object")}\n`);
  };
  line("first sight, kept (vs not kept)", (f) => f.firstSeenUs);
  line("status-only update, kept (vs not kept)", (f) => f.statusUs);
  line("Git change, kept (vs not kept)", (f) => f.gitUs);
  process.stdout.write(
    `start-up restore of ${String(OBJECTS)} kept objects: ${fmt(m(kept, (f) => f.restoreMs ?? 0))} ms\n`,
  );
}

main();
