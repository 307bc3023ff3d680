// Runs the auditor component against the envtest API server, with its log, metrics and journal
// kept for the test to read.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { AUDIT_WEBHOOK_PATH } from "../../src/auditor/attribution/audit-webhook.js";
import {
  createAuditorComponent,
  type AuditorComponent,
  type AuditorOptions,
} from "../../src/auditor/component.js";
import { JOURNAL_FILE, JournalStore } from "../../src/auditor/journal/store.js";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { loadConfig } from "../../src/config.js";
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics, type Metrics } from "../../src/telemetry/metrics.js";
import { clientAs, envtest, eventually } from "../envtest/context.js";
import { extraApiServer, type ExtraApiServer } from "../envtest/extra-apiserver.js";
import { kubeconfigYaml } from "../envtest/kubeconfig.js";
import { makeClientCert } from "../envtest/pki.js";
import type { TestCa } from "../helpers/tls.js";
import { sink, type LogSink } from "../helpers/log-sink.js";

export interface RunningAuditor {
  readonly component: AuditorComponent;
  readonly log: LogSink;
  readonly metrics: Metrics;
  readonly stateDir: string;
  /**
   * The journal, oldest first. With a namespace, only records about objects in it: the auditor
   * watches the whole cluster, which other tests share.
   */
  records(namespace?: string): JournalRecord[];
  /** Stops the auditor (its journal stays); idempotent. */
  stop(): Promise<void>;
}

/** A journal path in a folder of the test's own, removed when it ends: outlives auditors. */
export function lastingJournalPath(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return join(dir, JOURNAL_FILE);
}

/**
 * namespace: the product's namespace as the auditor's config has it (where it expects the
 * sealing key Secrets); options.journalPath: a journal that outlives this auditor (restarts).
 */
export async function startAuditor(
  options: AuditorOptions = {},
  namespace = "gitops-guard-system",
): Promise<RunningAuditor> {
  const stateDir = mkdtempSync(join(tmpdir(), "auditor-"));
  const log = sink();
  const config = loadConfig({
    flags: { kubeconfig: envtest().kubeconfigs.admin, stateDir, namespace },
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
  const stop = async (): Promise<void> => {
    abort.abort();
    await running;
  };
  onTestFinished(async () => {
    await stop();
    rmSync(stateDir, { recursive: true, force: true });
  });
  await eventually("the auditor's caches to sync", () =>
    Object.values(component.readiness()).every(Boolean),
  );
  const path = options.journalPath ?? join(stateDir, JOURNAL_FILE);
  return {
    component,
    log,
    metrics,
    stateDir,
    stop,
    records(namespace?: string) {
      const store = JournalStore.open(path, realClock());
      try {
        const all = store.list({ limit: 10_000 });
        return namespace === undefined ? all : all.filter((r) => r.object?.namespace === namespace);
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

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    verbs: [get, list, watch]
  - level: Metadata
`;

/**
 * A second API server (on the shared etcd) that sends its audit events to the auditor's audit
 * webhook, blocking: a request through it is attributed by the API server's own account. Its
 * kubeconfig is an admin (envtest-admin-2, system:masters).
 */
export async function auditedApiServer(
  auditor: RunningAuditor,
  ca: TestCa,
  tag: string,
): Promise<ExtraApiServer> {
  const info = envtest();
  const hookConfig = join(info.dir, `audit-webhook-${tag}.kubeconfig`);
  const url = `${auditor.component.auditWebhookUrl() ?? ""}${AUDIT_WEBHOOK_PATH}`;
  writeFileSync(hookConfig, kubeconfigYaml({ name: "auditor", server: url, caCert: ca.cert }));
  const policy = join(info.dir, `audit-policy-${tag}.yaml`);
  writeFileSync(policy, AUDIT_POLICY);
  const server = await extraApiServer(info, {
    extraArgs: [
      `--audit-policy-file=${policy}`,
      `--audit-webhook-config-file=${hookConfig}`,
      "--audit-webhook-mode=blocking",
    ],
  });
  await server.start();
  onTestFinished(() => server.stop());
  return server;
}

/** The admission-denied records of one namespace. */
export function denials(auditor: RunningAuditor, ns: string): JournalRecord[] {
  return auditor.records(ns).filter((r) => r.type === "admission-denied");
}

/** The webhook's Deny Events in one namespace. */
export async function denyEvents(ns: string): Promise<KubeObject[]> {
  const { items } = await clientAs("admin").list(
    { apiVersion: "events.k8s.io/v1", kind: "Event" },
    { namespace: ns },
  );
  return items.filter((e) => e["action"] === "Deny");
}

/** The ConfigMap the audit-webhook tests edit: LOG_LEVEL=info as Git has it. */
export function configMap(namespace: string, name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace },
    data: { LOG_LEVEL: "info" },
  };
}

/** A ConfigMap as the reconciler applies it: with the owner labels of GitSync namespace/app. */
export function ownedConfigMap(namespace: string, name: string, level = "info"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      namespace,
      labels: {
        "gitops-guard.io/gitsync-name": "app",
        "gitops-guard.io/gitsync-namespace": namespace,
      },
    },
    data: { LOG_LEVEL: level },
  };
}

/** The object reference of that ConfigMap. */
export const ref = (namespace: string, name: string) =>
  ({ apiVersion: "v1", kind: "ConfigMap", namespace, name }) as const;

/**
 * A kubeconfig for user (in groups) with a client certificate from the envtest CA, pointed at
 * serverUrl (the audited API server); tag keeps the files of tests apart.
 */
export function userKubeconfig(
  serverUrl: string,
  user: string,
  groups: readonly string[],
  tag: string,
): string {
  const info = envtest();
  const file = join(info.dir, `${user}-${tag}.kubeconfig`);
  const cert = makeClientCert({ cert: info.caCert, key: info.caKey }, { user, groups });
  writeFileSync(
    file,
    kubeconfigYaml({ name: user, server: serverUrl, caCert: info.caCert, clientCert: cert }),
  );
  return file;
}

/**
 * bob's break-glass edit of a harness ConfigMap: reason "INC-4711 database failover", expiring
 * in 30 minutes, LOG_LEVEL=trace. by: the holder annotation the webhook requires (its absence
 * is fine where no webhook judges the edit).
 */
export async function breakGlassEdit(
  client: KubeClient,
  namespace: string,
  name: string,
  by?: string,
): Promise<void> {
  const live = await client.get<KubeObject>(ref(namespace, name));
  if (live === undefined) throw new Error(`ConfigMap ${namespace}/${name} is not there`);
  await client.replace({
    ...live,
    metadata: {
      ...live.metadata,
      annotations: {
        "gitops-guard.io/break-glass": "INC-4711 database failover",
        "gitops-guard.io/break-glass-expires": new Date(Date.now() + 30 * 60_000).toISOString(),
        ...(by === undefined ? {} : { "gitops-guard.io/break-glass-by": by }),
      },
    },
    data: { LOG_LEVEL: "trace" },
  });
}
