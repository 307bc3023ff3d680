/**
 * The compiled ValidatingAdmissionPolicy on the real API server: with the webhook's process
 * stopped (failurePolicy Ignore lets requests through it), the API server itself still denies
 * alice, admits the reconciler and a valid break-glass; and it follows the GuardPolicy.
 */
import { request } from "node:https";
import { describe, expect, it } from "vitest";
import { backstopName } from "../../src/admission/vap/compile.js";
import { runCli } from "../../src/cli/run-cli.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, envtest, eventually, testNamespace } from "../envtest/context.js";
import {
  GUARD_DEPLOYMENTS,
  createPolicy,
  deployment,
  kubectl,
  readyOf,
  startAdmission,
} from "./harness.js";

const VAP = { apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy" };
const BINDING = { ...VAP, kind: "ValidatingAdmissionPolicyBinding" };

async function backstopApplied(policy: string): Promise<void> {
  await eventually(`the backstop of ${policy}`, async () => {
    const ready = await readyOf(policy);
    return String(ready?.["message"]).includes(`ValidatingAdmissionPolicy ${backstopName(policy)}`);
  });
}

function image(ns: string, tag: string): KubeObject {
  const obj = deployment(ns);
  const spec = obj["spec"] as { template: { spec: { containers: { image: string }[] } } };
  spec.template.spec.containers[0]!.image = `registry.example/web:${tag}`;
  return obj;
}

/** Resolves with the connection error: nothing may answer at the webhook's URL. */
function connectError(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { method: "POST", rejectUnauthorized: false, timeout: 2000 }, () => {
      resolve("answered");
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      resolve(err.code ?? err.message);
    });
    req.end();
  });
}

async function breakGlass(who: "alice" | "bob", args: readonly string[]): Promise<number> {
  return runCli(
    ["node", "gitops-guard", "break-glass", ...args, "--kubeconfig", envtest().kubeconfigs[who]],
    {
      run: () => Promise.resolve(),
      env: {},
      hostname: "test",
      output: { writeOut: () => undefined, writeErr: () => undefined },
    },
  );
}

describe("the compiled ValidatingAdmissionPolicy", () => {
  it("still denies alice and admits the reconciler and bob's break-glass with the webhook stopped", async () => {
    const ns = await testNamespace("outage");
    const running = await startAdmission(ns);
    const policy = await createPolicy(ns, GUARD_DEPLOYMENTS);
    await backstopApplied(policy);
    const reconciler = clientAs("reconciler");
    await reconciler.apply(deployment(ns));
    // The API server loads a new policy asynchronously: wait until it answers (it runs first).
    await eventually("the API server to enforce the compiled policy", async () => {
      const r = await kubectl("alice", ["label", "deployment/web", "-n", ns, "x=1"]);
      return r.stderr.includes(`ValidatingAdmissionPolicy '${backstopName(policy)}'`);
    });

    await running.stop();
    const admin = clientAs("admin");
    const vwc = await admin.get({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      name: `gg-${ns}`,
    });
    const hook = (
      vwc?.["webhooks"] as { clientConfig: { url: string }; failurePolicy: string }[]
    )[0]!;
    expect(hook.failurePolicy).toBe("Ignore");
    expect(await connectError(hook.clientConfig.url)).toBe("ECONNREFUSED");

    const denied = await kubectl("alice", [
      "set",
      "image",
      "deployment/web",
      "-n",
      ns,
      "app=evil:1",
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`ValidatingAdmissionPolicy '${backstopName(policy)}'`);
    expect(denied.stderr).toContain("alice may not change it directly");
    await reconciler.apply(image(ns, "1.1"));

    expect(
      await breakGlass("alice", ["deployment/web", "-n", ns, "--reason", "INC-7", "--for", "1h"]),
    ).toBe(1);
    expect(
      await breakGlass("bob", ["deployment/web", "-n", ns, "--reason", "nope", "--for", "1h"]),
    ).toBe(1);
    expect(
      await breakGlass("bob", ["deployment/web", "-n", ns, "--reason", "INC-7", "--for", "9h"]),
    ).toBe(1);
    expect(
      await breakGlass("bob", ["deployment/web", "-n", ns, "--reason", "INC-7", "--for", "1h"]),
    ).toBe(0);
    const fix = await kubectl("bob", [
      "set",
      "image",
      "deployment/web",
      "-n",
      ns,
      "app=registry.example/web:fix",
    ]);
    expect(fix.code, fix.stderr).toBe(0);
    expect((await kubectl("alice", ["label", "deployment/web", "-n", ns, "y=1"])).code).toBe(1);

    // Owned by the GuardPolicy: the garbage collector removes it with the policy, webhook or not.
    const owner = await admin.get({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GuardPolicy",
      name: policy,
    });
    const compiled = await admin.get({ ...VAP, name: backstopName(policy) });
    expect(compiled?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "GuardPolicy", name: policy, uid: owner?.metadata.uid }),
    ]);
  });

  it("follows its GuardPolicy: Audit mode binds it for audit only, deletion removes it", async () => {
    const ns = await testNamespace("follow");
    await startAdmission(ns);
    const policy = await createPolicy(ns, GUARD_DEPLOYMENTS);
    await backstopApplied(policy);
    const admin = clientAs("admin");
    const actions = async (): Promise<unknown> =>
      (
        (await admin.get({ ...BINDING, name: backstopName(policy) }))?.["spec"] as {
          validationActions?: unknown;
        }
      ).validationActions;
    expect(await actions()).toEqual(["Deny", "Audit"]);
    const live = await admin.get({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GuardPolicy",
      name: policy,
    });
    await admin.replace({ ...live!, spec: { ...(live!["spec"] as object), mode: "Audit" } });
    await eventually("the binding to switch to Audit", async () => {
      return JSON.stringify(await actions()) === '["Audit"]';
    });
    await admin.delete({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GuardPolicy",
      name: policy,
    });
    await eventually("the compiled policy and binding to go", async () => {
      const [vap, binding] = await Promise.all([
        admin.get({ ...VAP, name: backstopName(policy) }),
        admin.get({ ...BINDING, name: backstopName(policy) }),
      ]);
      return vap === undefined && binding === undefined;
    });
  });
});
