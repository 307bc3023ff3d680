/**
 * The admission component against the real API server: the API server calls the webhook (and
 * evaluates the compiled ValidatingAdmissionPolicy) for real requests made by real kubectl and
 * by clients authenticated as the fixed test identities.
 */
import { describe, expect, it } from "vitest";
import { EVENT_ANNOTATIONS } from "../../src/admission/events.js";
import { runCli } from "../../src/cli/run-cli.js";
import { ErrorCodes, isGuardError } from "../../src/errors.js";
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

const HPA = {
  user: "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
  groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
};

async function enforced(policy: string): Promise<void> {
  await eventually(`GuardPolicy ${policy} to be Ready`, async () => {
    const ready = await readyOf(policy);
    return ready?.["status"] === "True";
  });
}

/** Waits until the API server sends alice's edit to the guard (configurations load async). */
async function aliceDenied(ns: string, name = "web"): Promise<string> {
  let stderr = "";
  await eventually("alice's edit to be denied", async () => {
    const result = await kubectl("alice", [
      "label",
      `deployment/${name}`,
      "-n",
      ns,
      "edited=by-alice",
    ]);
    stderr = result.stderr;
    return result.code !== 0;
  });
  return stderr;
}

describe("admission webhook on the real API server", () => {
  it("denies alice with a message kubectl shows, admits the reconciler, and never blocks status, scale, finalizers or namespace deletion", async () => {
    const ns = await testNamespace("adm");
    await startAdmission(ns);
    const policy = await createPolicy(ns, GUARD_DEPLOYMENTS);
    await enforced(policy);
    const reconciler = clientAs("reconciler");
    await reconciler.apply(deployment(ns));

    const message = await aliceDenied(ns);
    expect(message).toContain(`Deployment ${ns}/web is managed from Git (GuardPolicy ${policy})`);
    expect(message).toContain(`gitops-guard break-glass Deployment/web -n ${ns} --reason`);

    // Git changes pass: the reconciler's apply changes the image.
    const changed = deployment(ns);
    (
      changed["spec"] as { template: { spec: { containers: { image: string }[] } } }
    ).template.spec.containers[0]!.image = "registry.example/web:1.1";
    await reconciler.apply(changed);

    // Status writes and scaling are not out-of-band changes of the object.
    const admin = clientAs("admin");
    const path = `/apis/apps/v1/namespaces/${ns}/deployments/web`;
    await admin.rest.json({
      method: "PATCH",
      path: `${path}/status`,
      body: { status: { observedGeneration: 1 } },
      contentType: "application/merge-patch+json",
    });
    // The HPA controller's own rights: get and update (not patch) of */scale; like the
    // controller, it re-reads on a conflict (the deployment controller writes too).
    const hpa = admin.impersonating(HPA);
    await eventually("the HPA identity to scale", async () => {
      const scale = await hpa.rest.json<{ spec: { replicas: number } }>({
        method: "GET",
        path: `${path}/scale`,
      });
      const body = { ...scale, spec: { replicas: 3 } };
      return hpa.rest.json({ method: "PUT", path: `${path}/scale`, body }).then(
        () => true,
        (err: unknown) => {
          if (isGuardError(err, ErrorCodes.KUBE_CONFLICT)) return false;
          throw err;
        },
      );
    });
    expect(
      (await kubectl("alice", ["scale", "deployment/web", "-n", ns, "--replicas=2"])).code,
    ).toBe(0);

    // Finalizer removal passes, before and during deletion.
    await reconciler.apply(deployment(ns, "held", { finalizers: ["example.com/hold"] }));
    const unhold = [
      "patch",
      "deployment/held",
      "-n",
      ns,
      "--type=json",
      "-p",
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ];
    expect((await kubectl("alice", unhold)).code).toBe(0);
    await reconciler.apply(deployment(ns, "held", { finalizers: ["example.com/hold"] }));
    await reconciler.delete({
      apiVersion: "apps/v1",
      kind: "Deployment",
      namespace: ns,
      name: "held",
    });
    const removal = await kubectl("alice", unhold);
    expect(removal.stderr).toBe("");

    // The namespace goes, and the guarded Deployment with it.
    await admin.delete({ apiVersion: "v1", kind: "Namespace", name: ns });
    await eventually(
      "the namespace to be deleted",
      async () => {
        return (await admin.get({ apiVersion: "v1", kind: "Namespace", name: ns })) === undefined;
      },
      60_000,
    );
  });

  it("admits bob's break-glass set with the CLI and refuses alice's, and an expiry beyond maxDuration", async () => {
    const ns = await testNamespace("glass");
    await startAdmission(ns);
    await enforced(await createPolicy(ns, GUARD_DEPLOYMENTS));
    await clientAs("reconciler").apply(deployment(ns));
    await aliceDenied(ns);

    const bob = await breakGlass("bob", [
      "deployment/web",
      "-n",
      ns,
      "--reason",
      "INC-42",
      "--for",
      "30m",
    ]);
    expect(bob.code, bob.err).toBe(0);
    expect(bob.out).toContain(`break-glass on Deployment ${ns}/web held by bob until`);
    const edit = await kubectl("bob", [
      "set",
      "image",
      "deployment/web",
      "-n",
      ns,
      "app=registry.example/web:hotfix",
    ]);
    expect(edit.code, edit.stderr).toBe(0);
    expect(edit.stderr).toMatch(/Warning: gitops-guard: break-glass by bob until .*: INC-42/);
    const event = await eventFor(ns, "BreakGlass");
    expect(event.metadata.annotations).toMatchObject({
      [EVENT_ANNOTATIONS.user]: "bob",
      [EVENT_ANNOTATIONS.groups]: JSON.stringify(["incident-responders", "system:authenticated"]),
      [EVENT_ANNOTATIONS.reason]: "INC-42",
    });
    expect(event["regarding"]).toMatchObject({ kind: "Deployment", name: "web", namespace: ns });

    const alice = await breakGlass("alice", [
      "deployment/web",
      "-n",
      ns,
      "--reason",
      "INC-42",
      "--for",
      "30m",
    ]);
    expect(alice.code).toBe(1);
    expect(alice.err).toMatch(/denied|forbidden/i);
    // Beyond the policy's 4h: refused by the compiled policy (9h) and by the webhook (4h10m).
    for (const window of ["9h", "4h10m"]) {
      const long = await breakGlass("bob", [
        "deployment/web",
        "-n",
        ns,
        "--reason",
        "INC-42",
        "--for",
        window,
      ]);
      expect(long.code, window).toBe(1);
    }
    const late = await breakGlass("bob", [
      "deployment/web",
      "-n",
      ns,
      "--reason",
      "INC-42",
      "--for",
      "4h10m",
    ]);
    expect(late.err).toContain("is more than 4h (maxDuration) from now");
    const end = await breakGlass("bob", ["deployment/web", "-n", ns, "--end"]);
    expect(end.code, end.err).toBe(0);
    await aliceDenied(ns);
  });

  it("in Audit mode allows alice's edit with a warning and records it in an Event", async () => {
    const ns = await testNamespace("audit");
    await startAdmission(ns);
    await enforced(await createPolicy(ns, { ...GUARD_DEPLOYMENTS, mode: "Audit" }));
    await clientAs("reconciler").apply(deployment(ns));
    let warned = "";
    await eventually("the webhook to warn", async () => {
      const result = await kubectl("alice", [
        "label",
        "deployment/web",
        "-n",
        ns,
        "--overwrite",
        `edit=${String(Date.now())}`,
      ]);
      expect(result.code, result.stderr).toBe(0);
      warned = result.stderr;
      return warned.includes("Warning:");
    });
    expect(warned).toContain("Warning: gitops-guard (Audit mode) would deny:");
    const event = await eventFor(ns, "AuditMode");
    expect(event.metadata.annotations?.[EVENT_ANNOTATIONS.wouldDeny]).toBe("OutOfBandChange");
  });

  it("says where the object lives in Git (GitSync inventory) and what the request changes", async () => {
    const ns = await testNamespace("git");
    // The webhook alone: the compiled policy would answer first, without the file and fields.
    await startAdmission(ns, { backstop: false });
    await enforced(await createPolicy(ns, { breakGlass: GUARD_DEPLOYMENTS.breakGlass }));
    const admin = clientAs("admin");
    const gitSync = {
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GitSync",
      namespace: ns,
      name: "shop",
    };
    await admin.create({
      apiVersion: gitSync.apiVersion,
      kind: gitSync.kind,
      metadata: { name: "shop", namespace: ns },
      spec: { url: "https://git.example/shop.git", path: "apps/web" },
    });
    // The status the reconciler would write: this test runs the webhook alone, so it stands in
    // for the reconciler (not for a Kubernetes controller), to fix the revision it names.
    await admin.patchStatus(gitSync, {
      lastAppliedRevision: "main@sha1:4f1c2a9e0b7d4f1c2a9e0b7d4f1c2a9e0b7d4f1c",
      inventory: [{ apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: "web" }],
    });
    await clientAs("reconciler").apply(deployment(ns));
    const message = await aliceDenied(ns);
    expect(message).toContain(`admission webhook "validate.gitops-guard.io" denied the request`);
    expect(message).toContain(
      `Make the change in Git: file apps/web in https://git.example/shop.git (applied at 4f1c2a9e0b7d), applied by GitSync ${ns}/shop.`,
    );
    expect(message).toContain("The request changes /metadata/labels/edited.");
  });

  it("denies alice's edit of a Deployment near etcd's size limit (a 2.8 MB review) instead of letting it through", async () => {
    const ns = await testNamespace("large");
    // The webhook alone: the compiled policy runs first and would deny alice before it.
    await startAdmission(ns, { backstop: false });
    await enforced(await createPolicy(ns, GUARD_DEPLOYMENTS));
    const reconciler = clientAs("reconciler");
    await reconciler.apply(deployment(ns, "probe"));
    await eventually("the API server to call the webhook", async () => {
      const edit = [
        "label",
        "deployment/probe",
        "-n",
        ns,
        "--overwrite",
        `e=${String(Date.now())}`,
      ];
      return (await kubectl("alice", edit)).stderr.includes("denied the request");
    });
    // 1.4 MB in the pod template: the API server refuses annotations over 256 KiB before any
    // admission, but stores an object this size (etcd takes 1.5 MiB), and the review of an
    // UPDATE carries it twice. Paused: no ReplicaSet or Pod copies it.
    const big = deployment(ns);
    const spec = big["spec"] as { paused?: boolean; template: { spec: { containers: object[] } } };
    spec.paused = true;
    spec.template.spec.containers = [
      {
        name: "app",
        image: "registry.example/web:1.0",
        env: [{ name: "BLOB", value: "x".repeat(1_400_000) }],
      },
    ];
    await reconciler.apply(big);
    const edit = await kubectl("alice", ["label", "deployment/web", "-n", ns, "edited=by-alice"]);
    expect(edit.code).not.toBe(0);
    expect(edit.stderr).toContain(
      `admission webhook "validate.gitops-guard.io" denied the request`,
    );
    expect(edit.stderr).toContain(`Deployment ${ns}/web is managed from Git`);
  });

  it("ignores an invalid GuardPolicy and says why in its status", async () => {
    const ns = await testNamespace("invalid");
    const running = await startAdmission(ns);
    const policy = await createPolicy(ns, { breakGlass: { groups: ["x"], reasonPattern: "(" } });
    await eventually(
      "the policy to be marked invalid",
      async () => (await readyOf(policy))?.["reason"] === "Invalid",
    );
    expect((await readyOf(policy))?.["message"]).toMatch(
      /spec\.breakGlass\.reasonPattern "\(" must be a regular expression/,
    );
    expect(
      running.logs.lines().some((l) => l["msg"] === "GuardPolicy is invalid and ignored"),
    ).toBe(true);
    expect(Object.values(running.component.readiness()).every(Boolean)).toBe(true);
  });
});

async function breakGlass(
  who: "alice" | "bob",
  args: readonly string[],
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(
    ["node", "gitops-guard", "break-glass", ...args, "--kubeconfig", envtest().kubeconfigs[who]],
    {
      run: () => Promise.resolve(),
      env: {},
      hostname: "test",
      output: { writeOut: (t) => (out += t), writeErr: (t) => (err += t) },
    },
  );
  return { code, out, err };
}

async function eventFor(ns: string, reason: string): Promise<KubeObject> {
  const admin = clientAs("admin");
  let found: KubeObject | undefined;
  await eventually(`a ${reason} Event in ${ns}`, async () => {
    const { items } = await admin.list(
      { apiVersion: "events.k8s.io/v1", kind: "Event" },
      { namespace: ns },
    );
    found = items.find(
      (e) => e["reason"] === reason && e["reportingController"] === "gitops-guard.io/admission",
    );
    return found !== undefined;
  });
  return found!;
}
