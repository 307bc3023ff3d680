// Runs the auditor component against the envtest API server, with its log, metrics and journal
// kept for the test to read.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import {
  createAuditorComponent,
  type AuditorComponent,
  type AuditorOptions,
} from "../../src/auditor/component.js";
import { JOURNAL_FILE, JournalStore } from "../../src/auditor/journal/store.js";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { loadConfig } from "../../src/config.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics, type Metrics } from "../../src/telemetry/metrics.js";
import { clientAs, envtest, eventually } from "../envtest/context.js";
import { sink, type LogSink } from "../helpers/log-sink.js";

export interface RunningAuditor {
  readonly component: AuditorComponent;
  readonly log: LogSink;
  readonly metrics: Metrics;
  readonly stateDir: string;
  records(): JournalRecord[];
}

export async function startAuditor(options: AuditorOptions = {}): Promise<RunningAuditor> {
  const stateDir = mkdtempSync(join(tmpdir(), "auditor-"));
  const log = sink();
  const config = loadConfig({
    flags: { kubeconfig: envtest().kubeconfigs.admin, stateDir, namespace: "gitops-guard-system" },
    env: {},
    hostname: "test-host",
  });
  const metrics = createMetrics();
  const component = createAuditorComponent(
    {
      config,
      logger: createLogger({ level: "debug", destination: log.stream }),
      metrics,
      clock: realClock(),
      kube: clientAs("admin"),
    },
    { attributionGraceMs: 500, ...options },
  );
  const abort = new AbortController();
  const running = component.run(abort.signal);
  onTestFinished(async () => {
    abort.abort();
    await running;
    rmSync(stateDir, { recursive: true, force: true });
  });
  await eventually("the auditor's caches to sync", () =>
    Object.values(component.readiness()).every(Boolean),
  );
  const path = join(stateDir, JOURNAL_FILE);
  return {
    component,
    log,
    metrics,
    stateDir,
    records() {
      const store = JournalStore.open(path, realClock());
      try {
        return store.list({ limit: 10_000 });
      } finally {
        store.close();
      }
    },
  };
}

/** A GitSync whose status lists the given objects, as the reconciler would leave it. */
export async function gitSyncWithInventory(
  namespace: string,
  objects: readonly KubeObject[],
): Promise<void> {
  const admin = clientAs("admin");
  await admin.create({
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GitSync",
    metadata: { name: "app", namespace },
    spec: { url: "https://git.example.com/team/app.git", path: "deploy/prod" },
  });
  await admin.patchStatus(
    { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync", namespace, name: "app" },
    {
      lastAppliedRevision: "main@sha1:0123456789abcdef0123456789abcdef01234567",
      inventory: objects.map((o) => ({
        apiVersion: o.apiVersion,
        kind: o.kind,
        namespace,
        name: o.metadata.name,
      })),
    },
  );
}
