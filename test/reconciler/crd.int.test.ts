import { describe, expect, it } from "vitest";
import type { GuardError } from "../../src/errors.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { GITSYNC } from "../../src/reconciler/names.js";
import { clientAs, testNamespace } from "../envtest/context.js";

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err: unknown) {
    return (err as GuardError).message;
  }
  throw new Error("expected the API server to reject the GitSync");
}

describe("the GitSync CRD", () => {
  it("fills defaults and rejects invalid specs with a message naming the field", async () => {
    const ns = await testNamespace("crd");
    const admin = clientAs("admin");
    const make = (name: string, spec: Record<string, unknown>): Promise<KubeObject> =>
      admin.create({ ...GITSYNC, metadata: { name, namespace: ns }, spec });
    const created = await make("ok", { url: "https://git.example/r.git" });
    expect(created["spec"]).toEqual({
      url: "https://git.example/r.git",
      path: ".",
      interval: "1m",
      prune: true,
      pruneGuard: { maxPercent: 50 },
      selfHeal: true,
      suspend: false,
      deletionPolicy: "Delete",
    });
    expect(
      await rejection(make("two-refs", { url: "https://h/r", ref: { branch: "a", tag: "b" } })),
    ).toContain("set at most one of branch, tag or commit");
    expect(
      await rejection(make("escape", { url: "https://h/r", path: "apps/../../etc" })),
    ).toContain("may not contain '..'");
    expect(await rejection(make("ext", { url: "ext::sh -c id" }))).toContain("spec.url");
    expect(
      await rejection(make("short", { url: "https://h/r", ref: { commit: "abc1234" } })),
    ).toContain("spec.ref.commit");
    expect(
      await rejection(make("guard", { url: "https://h/r", pruneGuard: { maxPercent: 101 } })),
    ).toContain("spec.pruneGuard.maxPercent");
    expect(await rejection(make("x".repeat(64), { url: "https://h/r" }))).toContain(
      "at most 63 characters",
    );
  });

  it("shows revision, Ready, Drifted and age as printer columns", async () => {
    const crd = await clientAs("admin").get<
      KubeObject & { spec: { versions: { additionalPrinterColumns: { name: string }[] }[] } }
    >({
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      name: "gitsyncs.gitops-guard.io",
    });
    expect(crd?.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      "Revision",
      "Ready",
      "Drifted",
      "Age",
      "Status",
    ]);
  });
});
