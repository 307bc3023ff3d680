/** The Ready condition the admission component writes on a GuardPolicy. */
import { describe, expect, it } from "vitest";
import { nextStatus, readyCondition } from "../../src/admission/policy-status.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { NOW } from "./helpers.js";

const policy = (status?: unknown): KubeObject => ({
  apiVersion: "gitops-guard.io/v1alpha1",
  kind: "GuardPolicy",
  metadata: { name: "default", generation: 3 },
  ...(status === undefined ? {} : { status }),
});

describe("GuardPolicy status", () => {
  it("says what enforces a valid policy, and why an invalid one is ignored", () => {
    expect(readyCondition(undefined, { kind: "applied", name: "gitops-guard-default" }, 3)).toEqual(
      {
        type: "Ready",
        status: "True",
        reason: "Enforced",
        message:
          "enforced by the admission webhook and the API server (ValidatingAdmissionPolicy gitops-guard-default)",
        observedGeneration: 3,
      },
    );
    expect(
      readyCondition('spec.mode "x" must be one of Enforce, Audit', { kind: "disabled" }, 3),
    ).toMatchObject({
      status: "False",
      reason: "Invalid",
      message: 'ignored: spec.mode "x" must be one of Enforce, Audit',
    });
    expect(
      readyCondition(undefined, { kind: "failed", message: "422 bad CEL" }, undefined),
    ).toMatchObject({
      status: "False",
      reason: "BackstopFailed",
    });
    expect(readyCondition(undefined, { kind: "disabled" }, 1).message).toBe(
      "enforced by the admission webhook",
    );
  });

  it("is written only when it changes, keeping the transition time", () => {
    const ready = readyCondition(undefined, { kind: "disabled" }, 3);
    const first = nextStatus(policy(), ready, NOW);
    expect(first).toEqual({
      observedGeneration: 3,
      conditions: [{ ...ready, lastTransitionTime: "2026-01-01T00:00:00Z" }],
    });
    expect(nextStatus(policy(first), ready, NOW + 60_000)).toBeUndefined();
    const newer = nextStatus(
      { ...policy(first), metadata: { name: "default", generation: 4 } },
      { ...ready, observedGeneration: 4 },
      NOW + 60_000,
    );
    expect(newer?.conditions[0]?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    expect(newer?.observedGeneration).toBe(4);
  });
});
