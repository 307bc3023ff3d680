/**
 * The admission component against the shared envtest control plane, the way main.ts runs it out
 * of a cluster: impersonating the gitops-guard-webhook service account (with the RBAC of
 * webhooks/webhook-rbac.yaml), registering itself with a url clientConfig and its own CA. Every
 * webhook configuration, compiled policy and GuardPolicy is scoped to the test's namespace and
 * removed when the test ends, so no other test file is ever blocked.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { onTestFinished } from "vitest";
import { parseAllDocuments } from "yaml";
import { createAdmissionComponent, type AdmissionOptions } from "../../src/admission/component.js";
import { backstopName } from "../../src/admission/vap/compile.js";
import type { ComponentContext } from "../../src/component-context.js";
import { loadConfig } from "../../src/config.js";
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { createServices } from "../../src/main.js";
import type { Component } from "../../src/runtime/component.js";
import { sink, type LogSink } from "../helpers/log-sink.js";
import { clientAs, envtest, eventually } from "../envtest/context.js";

const exec = promisify(execFile);
const RBAC = fileURLToPath(new URL("../../webhooks/webhook-rbac.yaml", import.meta.url));
export const SYSTEM_NS = "gitops-guard-system";
export const WEBHOOK_USER = `system:serviceaccount:${SYSTEM_NS}:gitops-guard-webhook`;

export interface RunningAdmission {
  readonly component: Component;
  readonly ctx: ComponentContext;
  readonly logs: LogSink;
  /** Stops the component (the webhook's server closes); idempotent. */
  stop(): Promise<void>;
}

/** The webhook's ClusterRole and Role, applied as the product ships them. */
export async function applyWebhookRbac(admin: KubeClient): Promise<void> {
  for (const doc of parseAllDocuments(readFileSync(RBAC, "utf8"))) {
    const obj = doc.toJS() as KubeObject | null;
    if (obj !== null) await admin.apply(obj);
  }
}

export function testLabel(ns: string): Record<string, string> {
  return { "gitops-guard.io/test": ns };
}

export async function startAdmission(
  ns: string,
  options: AdmissionOptions = {},
): Promise<RunningAdmission> {
  const admin = clientAs("admin");
  await applyWebhookRbac(admin);
  const config = loadConfig({
    flags: {
      kubeconfig: envtest().kubeconfigs.admin,
      webhookListen: "127.0.0.1:0",
      opsListen: "127.0.0.1:0",
      namespace: SYSTEM_NS,
      identity: `admission-${ns}`,
    },
    env: {},
    hostname: "test-host",
  });
  const logs = sink();
  const services = createServices(config, { logDestination: logs.stream });
  const ctx: ComponentContext = {
    ...services,
    config,
    logger: services.logger.child({ component: "admission" }),
    kube: services.kube.impersonating({ user: WEBHOOK_USER }),
  };
  const name = `gg-${ns}`;
  const component = createAdmissionComponent(ctx, {
    webhookName: name,
    namespaces: [ns],
    policySelector: `gitops-guard.io/test=${ns}`,
    tls: { mode: "self-managed", secretName: `${name}-tls` },
    ...options,
  });
  const abort = new AbortController();
  const running = component.run(abort.signal);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      abort.abort();
      await running;
    })();
    return stopped;
  };
  onTestFinished(async () => {
    await stop();
    const vwc = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
    };
    await admin.delete({ ...vwc, name });
    await admin.delete({
      apiVersion: "v1",
      kind: "Secret",
      namespace: SYSTEM_NS,
      name: `${name}-tls`,
    });
  });
  await eventually("the admission component to be ready", () =>
    Object.values(component.readiness()).every(Boolean),
  );
  return { component, ctx, logs, stop };
}

/** Creates a GuardPolicy for the test (labelled so only its component sees it), deleted after. */
export async function createPolicy(ns: string, spec: Record<string, unknown>): Promise<string> {
  const admin = clientAs("admin");
  const name = `p-${ns}`;
  await admin.create({
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GuardPolicy",
    metadata: { name, labels: testLabel(ns) },
    spec,
  });
  onTestFinished(async () => {
    await admin.delete({ apiVersion: "gitops-guard.io/v1alpha1", kind: "GuardPolicy", name });
    for (const kind of ["ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"]) {
      await admin.delete({
        apiVersion: "admissionregistration.k8s.io/v1",
        kind,
        name: backstopName(name),
      });
    }
  });
  return name;
}

/** The GuardPolicy's Ready condition, as the API server has it. */
export async function readyOf(name: string): Promise<Record<string, unknown> | undefined> {
  const obj = await clientAs("admin").get({
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GuardPolicy",
    name,
  });
  const conditions = (obj?.["status"] as { conditions?: Record<string, unknown>[] } | undefined)
    ?.conditions;
  return conditions?.find((c) => c["type"] === "Ready");
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built kubectl as one of the test identities; never throws on a non-zero exit. */
export async function kubectl(
  identity: "admin" | "alice" | "bob" | "reconciler",
  args: readonly string[],
): Promise<KubectlResult> {
  const { kubectl: bin, kubeconfigs } = envtest();
  try {
    const { stdout, stderr } = await exec(bin, [`--kubeconfig=${kubeconfigs[identity]}`, ...args], {
      encoding: "utf8",
    });
    return { code: 0, stdout, stderr };
  } catch (err: unknown) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** A Deployment as the reconciler applies it from Git. */
export function deployment(
  ns: string,
  name = "web",
  extra: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns, labels: { app: name }, ...extra },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image: "registry.example/web:1.0" }] },
      },
    },
  };
}

/** The policy most tests use: Deployments guarded, responders may break glass for 4h. */
export const GUARD_DEPLOYMENTS = {
  match: { resources: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] },
  breakGlass: { groups: ["incident-responders"], maxDuration: "4h", reasonPattern: "^INC-[0-9]+" },
  ignoreFields: [{ apiGroups: ["apps"], kinds: ["Deployment"], jsonPointers: ["/spec/replicas"] }],
};
