// The admission part of the write path on a real API server: the same 1,000 writes (a merge
// patch of a guarded ConfigMap by the reconciler's service account, one at a time) without any
// admission, with the webhook, with the compiled ValidatingAdmissionPolicy alone, and with
// both, on one control plane started for the benchmark (test/envtest).
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { parseAllDocuments } from "yaml";
import { createAdmissionComponent } from "../../src/admission/component.js";
import { createAdmissionCore } from "../../src/admission/core.js";
import { backstopName, compileBackstop } from "../../src/admission/vap/compile.js";
import { loadConfig } from "../../src/config.js";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { createServices } from "../../src/main.js";
import { startControlPlane, type ControlPlaneInfo } from "../envtest/control-plane.js";

export const NS = "bench-admission";
export const SYSTEM_NS = "gitops-guard-system";
export const VWC = {
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "ValidatingWebhookConfiguration",
};
const POLICY_SPEC = {
  match: { resources: [{ apiGroups: [""], kinds: ["ConfigMap"] }] },
  breakGlass: { groups: ["incident-responders"], maxDuration: "4h", reasonPattern: "^INC-[0-9]+" },
  // The admin's writes are allowed as Exempt: each makes an attribution fact.
  exemptions: { users: ["envtest-admin"] },
};

export interface WriteFigures {
  readonly [config: string]: number[];
}

export async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The name of the guarded ConfigMap write i goes to: one, or spread over `spread` of them. */
export function guardedName(i: number, spread = 1): string {
  return spread <= 1 ? "guarded" : `guarded-${String(i % spread)}`;
}

export async function writes(
  kube: KubeClient,
  count: number,
  from: number,
  spread = 1,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const ref = {
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: NS,
      name: guardedName(i, spread),
    };
    const start = performance.now();
    await kube.mergePatch(ref, { data: { n: String(from + i) } });
    times.push(performance.now() - start);
  }
  return times;
}

export async function aliceDeniedBy(info: ControlPlaneInfo, text: string): Promise<boolean> {
  const alice = createKubeClient({ kubeconfig: info.kubeconfigs.alice });
  try {
    await alice.mergePatch(
      { apiVersion: "v1", kind: "ConfigMap", namespace: NS, name: "guarded" },
      {
        metadata: { labels: { probe: String(performance.now()).replace(".", "") } },
      },
    );
    return false;
  } catch (err: unknown) {
    return String(err).includes(text);
  }
}

export function startWebhook(
  info: ControlPlaneInfo,
  backstop: boolean,
  attributionFacts = true,
): { stop: () => Promise<void> } {
  const config = loadConfig({
    flags: {
      kubeconfig: info.kubeconfigs.admin,
      webhookListen: "127.0.0.1:0",
      namespace: SYSTEM_NS,
      identity: "bench",
    },
    env: {},
    hostname: "bench",
  });
  const quiet = new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
  const services = createServices(config, { logDestination: quiet });
  const ctx = {
    ...services,
    config,
    logger: services.logger.child({ component: "admission" }),
    kube: services.kube.impersonating({
      user: `system:serviceaccount:${SYSTEM_NS}:gitops-guard-webhook`,
    }),
  };
  const component = createAdmissionComponent(ctx, {
    webhookName: "gg-bench",
    namespaces: [NS],
    backstop,
    attributionFacts,
    tls: { mode: "self-managed", secretName: "gg-bench-tls" },
  });
  const abort = new AbortController();
  const running = component.run(abort.signal);
  return {
    stop: async () => {
      abort.abort();
      await running;
    },
  };
}

/** The bench namespace, its guarded ConfigMaps ("guarded", and `spread` more) and the policy. */
export async function setUp(
  info: ControlPlaneInfo,
  admin: KubeClient,
  spread = 1,
): Promise<KubeObject> {
  const rbac = readFileSync(new URL("../../webhooks/webhook-rbac.yaml", import.meta.url), "utf8");
  for (const doc of parseAllDocuments(rbac)) await admin.apply(doc.toJS() as KubeObject);
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  const reconciler = createKubeClient({ kubeconfig: info.kubeconfigs.reconciler });
  const spreadNames =
    spread > 1 ? Array.from({ length: spread }, (_, i) => guardedName(i, spread)) : [];
  for (const name of ["guarded", ...spreadNames]) {
    await reconciler.apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: NS },
      data: { n: "0" },
    });
  }
  return admin.create({
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GuardPolicy",
    metadata: { name: "bench" },
    spec: POLICY_SPEC,
  });
}

/** Runs the four configurations, count writes each, and returns every write's time in ms. */
export async function writeLatencies(
  count: number,
  log: (line: string) => void,
): Promise<WriteFigures> {
  const cp = await startControlPlane();
  try {
    const info = cp.info;
    const admin = createKubeClient({ kubeconfig: info.kubeconfigs.admin });
    const reconciler = createKubeClient({ kubeconfig: info.kubeconfigs.reconciler });
    const policyObject = await setUp(info, admin);
    const figures: Record<string, number[]> = {};
    await writes(reconciler, 100, 0);
    figures["no admission"] = await writes(reconciler, count, 1000);
    log(`  writes: no admission done`);

    const webhook = startWebhook(info, false);
    await until("the webhook to deny alice", () =>
      aliceDeniedBy(info, 'admission webhook "validate.gitops-guard.io"'),
    );
    await writes(reconciler, 100, 0);
    figures["webhook"] = await writes(reconciler, count, 2000);
    await webhook.stop();
    await admin.delete({ ...VWC, name: "gg-bench" });
    log(`  writes: webhook done`);

    const policy = createAdmissionCore().policies.parse(policyObject);
    const compiled = compileBackstop(policy, {
      now: Date.now(),
      ownNamespace: SYSTEM_NS,
      namespaces: [NS],
    });
    await admin.apply(compiled.policy);
    await admin.apply(compiled.binding);
    await until("the ValidatingAdmissionPolicy to deny alice", () =>
      aliceDeniedBy(info, `ValidatingAdmissionPolicy '${backstopName("bench")}'`),
    );
    await writes(reconciler, 100, 0);
    figures["ValidatingAdmissionPolicy alone"] = await writes(reconciler, count, 3000);
    log(`  writes: ValidatingAdmissionPolicy alone done`);

    const both = startWebhook(info, true);
    await until(
      "the webhook to be registered",
      async () => (await admin.get({ ...VWC, name: "gg-bench" })) !== undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await writes(reconciler, 100, 0);
    figures["webhook + ValidatingAdmissionPolicy"] = await writes(reconciler, count, 4000);
    await both.stop();
    await admin.delete({ ...VWC, name: "gg-bench" });
    figures["no admission (again)"] = await (async () => {
      await admin.delete({
        ...VWC,
        kind: "ValidatingAdmissionPolicyBinding",
        name: backstopName("bench"),
      });
      await admin.delete({
        ...VWC,
        kind: "ValidatingAdmissionPolicy",
        name: backstopName("bench"),
      });
      await new Promise((resolve) => setTimeout(resolve, 3000));
      return writes(reconciler, count, 5000);
    })();
    return figures;
  } finally {
    await cp.stop();
  }
}
