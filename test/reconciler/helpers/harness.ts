// Runs the real reconciler component against envtest as its own service account, and the GitSync
// helpers the integration tests share.
import { loadConfig } from "../../../src/config.js";
import type { KubeObject } from "../../../src/kube/objects.js";
import {
  createReconcilerComponent,
  type ReconcilerOptions,
} from "../../../src/reconciler/component.js";
import type { GitSyncObject } from "../../../src/reconciler/gitsync.js";
import { GITSYNC, REQUESTED_AT_ANNOTATION } from "../../../src/reconciler/names.js";
import type { Component } from "../../../src/runtime/component.js";
import { findCondition, type Condition } from "../../../src/runtime/conditions.js";
import { realClock } from "../../../src/runtime/clock.js";
import { createLogger } from "../../../src/telemetry/log.js";
import { createMetrics, type Metrics } from "../../../src/telemetry/metrics.js";
import { clientAs, envtest, eventually } from "../../envtest/context.js";
import { sink, type LogSink } from "../../helpers/log-sink.js";
import { ensureHelm, ensureKustomize } from "./kustomize.js";
import { removeTempDirs, tempDir } from "./temp.js";

export interface Harness {
  readonly component: Component;
  readonly metrics: Metrics;
  readonly logs: LogSink;
  stop(): Promise<void>;
}

/** Test timings: short polls so a suite finishes in seconds, same code paths as production. */
const FAST: ReconcilerOptions = {
  pollMs: 100,
  healthPollMs: 300,
  waitRequeueMs: 300,
  dependencyRequeueMs: 1000,
  retryBaseMs: 500,
  definitionsTimeoutMs: 20_000,
  gitTimeoutMs: 20_000,
};

/**
 * configEnv: the environment the Config is read from (GITOPS_GUARD_SOPS_KMS_*, say); flags:
 * `gitops-guard run` flags over the test defaults (defaultServiceAccount, allowFileUrls: false).
 */
export async function startReconciler(
  options: ReconcilerOptions = {},
  configEnv: Readonly<Record<string, string>> = {},
  flags: Readonly<Record<string, unknown>> = {},
): Promise<Harness> {
  const config = loadConfig({
    flags: {
      kubeconfig: envtest().kubeconfigs.reconciler,
      stateDir: tempDir("gg-reconciler-"),
      opsListen: "127.0.0.1:0",
      identity: "reconciler-test",
      // The tests' repositories are file:// ones on this machine.
      allowFileUrls: true,
      ...flags,
    },
    env: configEnv,
    hostname: "test-host",
  });
  const logs = sink();
  const metrics = createMetrics();
  const component = createReconcilerComponent(
    {
      config,
      logger: createLogger({ level: "info", destination: logs.stream }),
      metrics,
      clock: realClock(),
      kube: clientAs("reconciler"),
    },
    { kustomize: ensureKustomize(), helm: ensureHelm(), ...FAST, ...options },
  );
  const abort = new AbortController();
  const running = component.run(abort.signal);
  await eventually("the reconciler's informer to sync", () =>
    Object.values(component.readiness()).every(Boolean),
  );
  return {
    component,
    metrics,
    logs,
    async stop() {
      abort.abort();
      await running;
      removeTempDirs();
    },
  };
}

export function gitSync(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): KubeObject {
  return { ...GITSYNC, metadata: { name, namespace }, spec: { interval: "1h", ...spec } };
}

/** Creates or updates a GitSync as admin (a person committing the GitSync itself). */
export async function putGitSync(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  await clientAs("admin").apply(gitSync(namespace, name, spec), { fieldManager: "test" });
}

let requests = 0;

/** Asks for a sync now, as a push webhook will: a new value of the requested-at annotation. */
export async function requestSync(namespace: string, name: string): Promise<void> {
  requests++;
  await clientAs("admin").apply(
    {
      ...GITSYNC,
      metadata: {
        name,
        namespace,
        annotations: { [REQUESTED_AT_ANNOTATION]: `req-${requests}-${Math.random()}` },
      },
    },
    { fieldManager: "test-requester" },
  );
}

/** Reconciles of a GitSync finished so far (the reconciler's own duration histogram). */
export async function reconcilesOf(
  harness: Harness,
  namespace: string,
  name: string,
): Promise<number> {
  const text = await harness.metrics.text();
  const line = new RegExp(
    `gitops_guard_gitsync_reconcile_duration_seconds_count\\{namespace="${namespace}",name="${name}"\\} (\\d+)`,
  ).exec(text);
  return Number(line?.[1] ?? "0");
}

/**
 * Asks for a sync and waits until a reconcile finished after the ask: what it did not do is then
 * proven not done (a later event), not waited for.
 */
export async function syncOnce(harness: Harness, namespace: string, name: string): Promise<void> {
  const before = await reconcilesOf(harness, namespace, name);
  await requestSync(namespace, name);
  await eventually(
    `a reconcile of ${namespace}/${name} after the request`,
    async () => (await reconcilesOf(harness, namespace, name)) > before,
  );
}

export async function readGitSync(namespace: string, name: string): Promise<GitSyncObject> {
  const obj = await clientAs("admin").get<GitSyncObject>({ ...GITSYNC, namespace, name });
  if (obj === undefined) throw new Error(`GitSync ${namespace}/${name} not found`);
  return obj;
}

export function condition(obj: GitSyncObject, type: string): Condition | undefined {
  return findCondition(obj.status?.conditions, type);
}

/** Waits until the GitSync's status satisfies check, and returns it. */
export async function waitForGitSync(
  namespace: string,
  name: string,
  what: string,
  check: (obj: GitSyncObject) => boolean,
): Promise<GitSyncObject> {
  let last: GitSyncObject | undefined;
  try {
    await eventually(`GitSync ${namespace}/${name}: ${what}`, async () => {
      last = await readGitSync(namespace, name);
      return check(last);
    });
  } catch (err: unknown) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status)}`, {
      cause: err,
    });
  }
  return last as GitSyncObject;
}

/** Waits until the GitSync's Ready condition has this reason, and returns it. */
export function waitForReadyReason(
  namespace: string,
  name: string,
  reason: string,
): Promise<GitSyncObject> {
  return waitForGitSync(namespace, name, reason, (o) => condition(o, "Ready")?.reason === reason);
}

/** Waits for Ready=True at the given commit. */
export function waitForApplied(
  namespace: string,
  name: string,
  commit: string,
): Promise<GitSyncObject> {
  return waitForGitSync(namespace, name, `applied ${commit.slice(0, 8)}`, (obj) => {
    const ready = condition(obj, "Ready");
    return (
      ready?.status === "True" &&
      ready.observedGeneration === obj.metadata.generation &&
      (obj.status?.lastAppliedRevision ?? "").endsWith(commit)
    );
  });
}

export async function exists(ref: {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}): Promise<boolean> {
  const obj = await clientAs("admin").get(ref);
  return obj !== undefined && obj.metadata.deletionTimestamp === undefined;
}

/** Events recorded on a GitSync, oldest first. */
export async function eventsOf(
  namespace: string,
  name: string,
): Promise<{ type: string; reason: string; message: string }[]> {
  const { items } = await clientAs("admin").list<
    KubeObject & {
      type: string;
      reason: string;
      message: string;
      involvedObject: { name: string; kind: string };
    }
  >({ apiVersion: "v1", kind: "Event" }, { namespace });
  return items
    .filter((e) => e.involvedObject.kind === "GitSync" && e.involvedObject.name === name)
    .map((e) => ({ type: e.type, reason: e.reason, message: e.message }));
}

/** The data of ConfigMap namespace/name, or undefined when it does not exist. */
export async function configMapData(
  namespace: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  const cm = await clientAs("admin").get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "ConfigMap",
    namespace,
    name,
  });
  return cm?.data;
}
