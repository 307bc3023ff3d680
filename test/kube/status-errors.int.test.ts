/**
 * The refusals the kube/status-errors predicates recognise, as the real API server sends them:
 * they read the status, the Status reason and the causes, so these are the shapes that count.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it, onTestFinished } from "vitest";
import { GuardError } from "../../src/errors.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { isInvalidField, isNamespaceTerminating } from "../../src/kube/status-errors.js";
import { refusedForGood } from "../../src/secrets/reconcile.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";

async function rejection(promise: Promise<unknown>): Promise<GuardError | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err: unknown) {
    if (err instanceof GuardError) return err;
    throw err;
  }
}

const configMap = (namespace: string, name: string, extra: object = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace, ...extra },
  data: { a: "1" },
});

describe("API refusals from the real API server", () => {
  it("refuses new data for an immutable Secret with a 422 Invalid on field data", async () => {
    const ns = await testNamespace("immutable");
    const admin = clientAs("admin");
    const secret = (value: string): KubeObject => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "immutable-db", namespace: ns },
      immutable: true,
      data: { password: Buffer.from(value).toString("base64") },
    });
    await admin.apply(secret("one"));
    const err = await rejection(admin.apply(secret("two")));
    expect(err?.details).toMatchObject({ status: 422, reason: "Invalid" });
    expect(isInvalidField(err, ["data"])).toBe(true);
    expect(refusedForGood(err)).toBe(true);
  });

  it("refuses a create in a namespace being deleted with a NamespaceTerminating cause", async () => {
    const admin = clientAs("admin");
    const ns = `terminating-${randomBytes(4).toString("hex")}`;
    await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    // A finalizer nobody removes keeps the namespace Terminating until the test lets it go.
    const held = configMap(ns, "held", { finalizers: ["gitops-guard.io/test-hold"] });
    await admin.create(held);
    onTestFinished(async () => {
      await admin.mergePatch(
        { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "held" },
        { metadata: { finalizers: null } },
      );
    });
    await admin.delete({ apiVersion: "v1", kind: "Namespace", name: ns });
    let err: GuardError | undefined;
    // The admission plugin reads the namespace from its cache: the refusal follows shortly.
    await eventually("a create in the namespace to be refused", async () => {
      err = await rejection(admin.apply(configMap(ns, `web-${randomBytes(2).toString("hex")}`)));
      return err !== undefined;
    });
    expect(err?.details).toMatchObject({ status: 403, reason: "Forbidden" });
    expect(isNamespaceTerminating(err)).toBe(true);
  });
});
