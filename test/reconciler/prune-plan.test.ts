import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import {
  pruneApproved,
  pruneCandidates,
  pruneGuard,
  pruneVerdict,
} from "../../src/reconciler/apply/prune-plan.js";
import { desiredKey } from "../../src/reconciler/desired.js";
import type { InventoryEntry } from "../../src/reconciler/gitsync.js";

const owner = { namespace: "apps", name: "app" };
const inv = (
  kind: string,
  name: string,
  apiVersion = "v1",
  namespace: string | null = "apps",
): InventoryEntry =>
  namespace === null ? { apiVersion, kind, name } : { apiVersion, kind, namespace, name };

function live(
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "x", labels, annotations, uid: "u1" },
  };
}

const OURS = { "gitops-guard.io/gitsync-name": "app", "gitops-guard.io/gitsync-namespace": "apps" };

describe("prune planning", () => {
  it("lists what left Git in the reverse of apply order: webhooks first, Namespaces last", () => {
    const previous = [
      inv("Namespace", "apps", "v1", null),
      inv("ConfigMap", "kept"),
      inv("Deployment", "web", "apps/v1"),
      inv("ConfigMap", "gone"),
      inv("ValidatingWebhookConfiguration", "guard", "admissionregistration.k8s.io/v1", null),
      inv("Widget", "w", "example.com/v1"),
    ];
    const desired = new Set([desiredKey(inv("ConfigMap", "kept"))]);
    expect(pruneCandidates(previous, desired).map((e) => `${e.kind}/${e.name}`)).toEqual([
      "ValidatingWebhookConfiguration/guard",
      "Widget/w",
      "Deployment/web",
      "ConfigMap/gone",
      "Namespace/apps",
    ]);
  });

  it("matches inventory to Git across API versions (an apps/v1beta2 entry is still the Deployment)", () => {
    const previous = [inv("Deployment", "web", "apps/v1beta2")];
    expect(
      pruneCandidates(previous, new Set([desiredKey(inv("Deployment", "web", "apps/v1"))])),
    ).toEqual([]);
  });

  it("deletes only objects that still carry this GitSync's owner labels and no prune opt-out", () => {
    expect(pruneVerdict(undefined, owner)).toBe("gone");
    expect(pruneVerdict(live(OURS), owner)).toBe("delete");
    expect(pruneVerdict(live(OURS, { "gitops-guard.io/prune": "disabled" }), owner)).toBe(
      "disabled",
    );
    expect(pruneVerdict(live(OURS, { "gitops-guard.io/prune": "Disabled" }), owner)).toBe(
      "disabled",
    );
    expect(pruneVerdict(live({ ...OURS, "gitops-guard.io/gitsync-name": "other" }), owner)).toBe(
      "foreign",
    );
    expect(pruneVerdict(live({}), owner)).toBe("foreign");
  });
});

describe("prune guard", () => {
  it("refuses an empty commit that would delete the whole inventory", () => {
    expect(pruneGuard({ deletions: 12, inventory: 12, maxPercent: 50, approved: false })).toBe(
      "refusing to delete 12 of 12 objects (100%), more than spec.pruneGuard.maxPercent (50%)",
    );
  });

  it("allows up to the configured share, and anything once approved", () => {
    expect(
      pruneGuard({ deletions: 5, inventory: 10, maxPercent: 50, approved: false }),
    ).toBeUndefined();
    expect(pruneGuard({ deletions: 6, inventory: 10, maxPercent: 50, approved: false })).toMatch(
      /6 of 10 objects \(60%\)/,
    );
    expect(
      pruneGuard({ deletions: 10, inventory: 10, maxPercent: 50, approved: true }),
    ).toBeUndefined();
    expect(
      pruneGuard({ deletions: 10, inventory: 10, maxPercent: 100, approved: false }),
    ).toBeUndefined();
    expect(pruneGuard({ deletions: 1, inventory: 10, maxPercent: 0, approved: false })).toMatch(
      /1 of 10/,
    );
    expect(
      pruneGuard({ deletions: 0, inventory: 10, maxPercent: 0, approved: false }),
    ).toBeUndefined();
  });

  it("takes an approval only for the commit it names (7 to 40 hex digits)", () => {
    const commit = "0123456789abcdef0123456789abcdef01234567";
    expect(pruneApproved(commit, commit)).toBe(true);
    expect(pruneApproved("0123456", commit)).toBe(true);
    expect(pruneApproved("012345", commit)).toBe(false);
    expect(pruneApproved("1123456", commit)).toBe(false);
    expect(pruneApproved("yes", commit)).toBe(false);
    expect(pruneApproved(undefined, commit)).toBe(false);
  });
});
