/**
 * compileBackstop(): the ValidatingAdmissionPolicy and binding a GuardPolicy becomes. The CEL is
 * exercised by the real API server in backstop.int.test.ts; here, the shape and the parts a
 * policy author controls (names, identities, patterns) are checked, including escaping.
 */
import { describe, expect, it } from "vitest";
import {
  BAKED_AT_ANNOTATION,
  backstopName,
  bakedTime,
  compileBackstop,
} from "../../src/admission/vap/compile.js";
import { ignoreBranches, unchangedExpression } from "../../src/admission/vap/ignore-branches.js";
import { BAKE_INTERVAL_MS } from "../../src/admission/vap/rules.js";
import { ignoreTree, pointerSegments, treeKey } from "../../src/admission/vap/unchanged.js";
import { NOW, defaultPolicy, policyOf } from "./helpers.js";

interface Spec {
  failurePolicy: string;
  matchConstraints: {
    resourceRules: { apiGroups: string[]; resources: string[]; operations: string[] }[];
    excludeResourceRules: { apiGroups: string[]; resources: string[] }[];
    namespaceSelector: {
      matchLabels?: object;
      matchExpressions: { key: string; operator: string; values?: string[] }[];
    };
    objectSelector?: object;
    matchPolicy: string;
  };
  matchConditions: { name: string; expression: string }[];
  variables: { name: string; expression: string }[];
  validations: { expression: string; messageExpression: string; message: string; reason: string }[];
}

function compiled(
  policy = defaultPolicy(),
  extra: { namespaces?: string[]; ownerUid?: string } = {},
): {
  spec: Spec;
  vap: ReturnType<typeof compileBackstop>["policy"];
  binding: ReturnType<typeof compileBackstop>["binding"];
} {
  const { policy: vap, binding } = compileBackstop(policy, {
    now: NOW + 123_456,
    ownNamespace: "gg-system",
    ...extra,
  });
  return { spec: vap["spec"] as Spec, vap, binding };
}

describe("compileBackstop", () => {
  it("names, labels and owns the compiled objects after the GuardPolicy", () => {
    const { vap, binding } = compiled(defaultPolicy(), { ownerUid: "uid-1" });
    expect(vap.metadata.name).toBe("gitops-guard-default");
    expect(backstopName("default")).toBe("gitops-guard-default");
    expect(vap.metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "gitops-guard",
      "gitops-guard.io/backstop": "true",
    });
    expect(vap.metadata.annotations?.["gitops-guard.io/guardpolicy"]).toBe("default");
    expect(vap.metadata.ownerReferences).toEqual([
      {
        apiVersion: "gitops-guard.io/v1alpha1",
        kind: "GuardPolicy",
        name: "default",
        uid: "uid-1",
      },
    ]);
    expect(binding["spec"]).toEqual({
      policyName: "gitops-guard-default",
      validationActions: ["Deny", "Audit"],
    });
    expect(binding.metadata.ownerReferences).toEqual(vap.metadata.ownerReferences);
  });

  it("matches the guarded kinds (and guarded subresources) in every namespace but the excluded ones", () => {
    const policy = policyOf({
      match: {
        resources: [
          { apiGroups: ["apps"], kinds: ["Deployment", "StatefulSet"], subresources: ["scale"] },
          { apiGroups: [""], kinds: ["ConfigMap"] },
        ],
        namespaceSelector: { matchLabels: { team: "shop" } },
      },
    });
    const { spec } = compiled(policy);
    expect(spec.failurePolicy).toBe("Fail");
    expect(spec.matchConstraints.matchPolicy).toBe("Equivalent");
    expect(spec.matchConstraints.resourceRules.map((r) => [r.apiGroups, r.resources])).toEqual([
      [["apps"], ["deployments", "statefulsets", "deployments/scale", "statefulsets/scale"]],
      [[""], ["configmaps"]],
    ]);
    expect(spec.matchConstraints.resourceRules[0]?.operations).toEqual([
      "CREATE",
      "UPDATE",
      "DELETE",
    ]);
    expect(spec.matchConstraints.namespaceSelector).toEqual({
      matchLabels: { team: "shop" },
      matchExpressions: [
        {
          key: "kubernetes.io/metadata.name",
          operator: "NotIn",
          values: ["kube-system", "kube-public", "kube-node-lease", "gg-system"],
        },
      ],
    });
    const excluded = spec.matchConstraints.excludeResourceRules.flatMap((r) => r.resources);
    expect(excluded).toEqual(expect.arrayContaining(["leases", "events", "nodes", "tokenreviews"]));
    expect(spec.matchConstraints.objectSelector).toBeUndefined();
  });

  it("guards by inventory through the reconciler's owner label when no kinds are listed", () => {
    const { spec } = compiled(policyOf({}));
    expect(spec.matchConstraints.resourceRules).toEqual([
      {
        apiGroups: ["*"],
        apiVersions: ["*"],
        operations: ["CREATE", "UPDATE", "DELETE"],
        resources: ["*"],
      },
    ]);
    expect(spec.matchConstraints.objectSelector).toEqual({
      matchExpressions: [{ key: "gitops-guard.io/gitsync-name", operator: "Exists" }],
    });
  });

  it("skips exempt identities, reconcilers (presets included), Secret writers and deletions", () => {
    const { spec } = compiled(
      policyOf({
        reconcilers: {
          presets: ["gitops-guard", "flux"],
          users: ["ci-bot"],
          groups: ["deployers"],
        },
        exemptions: { serviceAccounts: ["ops/janitor"] },
      }),
    );
    const [identities, deleting, writers] = spec.matchConditions;
    expect(identities?.expression).toContain(
      '"system:serviceaccount:gitops-guard-system:gitops-guard-reconciler"',
    );
    expect(identities?.expression).toContain(
      '"system:serviceaccount:flux-system:kustomize-controller"',
    );
    expect(identities?.expression).toContain('"system:serviceaccount:ops:janitor"');
    expect(identities?.expression).toContain('"ci-bot"');
    expect(identities?.expression).toContain('"system:nodes"');
    expect(identities?.expression).toContain('"deployers"');
    expect(identities?.expression).toContain("has(request.userInfo.groups)");
    expect(deleting?.expression).toBe(
      "oldObject == null || !has(oldObject.metadata.deletionTimestamp)",
    );
    expect(writers?.expression).toContain(
      '"system:serviceaccount:gitops-guard-system:gitops-guard-secrets"',
    );
  });

  it("binds for audit only in Audit mode, and narrows the binding to given namespaces", () => {
    const { binding } = compiled(policyOf({ mode: "Audit" }), { namespaces: ["t-1"] });
    expect(binding["spec"]).toEqual({
      policyName: "gitops-guard-test",
      validationActions: ["Audit"],
      matchResources: {
        namespaceSelector: {
          matchExpressions: [
            { key: "kubernetes.io/metadata.name", operator: "In", values: ["t-1"] },
          ],
        },
      },
    });
  });

  it("bakes the time rounded down, so replicas compile identical objects within an interval", () => {
    expect(bakedTime(NOW + BAKE_INTERVAL_MS - 1)).toBe(NOW);
    const a = compileBackstop(defaultPolicy(), { now: NOW + 1, ownNamespace: "x" });
    const b = compileBackstop(defaultPolicy(), {
      now: NOW + BAKE_INTERVAL_MS - 1,
      ownNamespace: "x",
    });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.policy.metadata.annotations?.[BAKED_AT_ANNOTATION]).toBe("2026-01-01T00:00:00.000Z");
    const breakGlass = (a.policy["spec"] as Spec).variables.find(
      (v) => v.name === "breakGlass",
    )?.expression;
    // 4h + 1 min skew + 2 bake intervals, from the baked time.
    expect(breakGlass).toContain('timestamp("2026-01-01T00:00:00Z") + duration("15660s")');
    expect(breakGlass).toContain('.matches("^INC-[0-9]+")');
  });

  it("escapes whatever a policy author writes into CEL string literals", () => {
    const hostile = 'x" || true || "';
    const { spec } = compiled(
      policyOf({
        breakGlass: { groups: [hostile], reasonPattern: '^"\\\\d+' },
        reconcilers: { users: [hostile] },
      }),
    );
    const all = JSON.stringify(spec);
    expect(all).not.toContain('"x" || true');
    const glass = spec.variables.find((v) => v.name === "inBreakGlassGroup")?.expression;
    expect(glass).toContain(JSON.stringify(hostile));
    expect(spec.validations[0]?.messageExpression).toContain(
      JSON.stringify(` In an incident, members of ${hostile}`).slice(1, -1),
    );
  });
});

describe("the unchanged-object comparison", () => {
  it("reads pointers, stopping at arrays", () => {
    expect(pointerSegments("/metadata/labels/app.kubernetes.io~1name")).toEqual([
      "metadata",
      "labels",
      "app.kubernetes.io/name",
    ]);
    expect(pointerSegments("/spec/template/spec/containers/0/image")).toEqual([
      "spec",
      "template",
      "spec",
      "containers",
    ]);
    expect(pointerSegments("/a~0b")).toEqual(["a~b"]);
  });

  it("ignores the noise of field-diff.ts plus the pointers, the shorter pointer winning", () => {
    const tree = JSON.parse(
      treeKey(ignoreTree(["/spec/replicas", "/spec", "/metadata/labels/x"])),
    ) as unknown;
    expect(tree).toEqual({
      l: ["spec", "status"],
      c: [
        [
          "metadata",
          {
            l: [
              "creationTimestamp",
              "generation",
              "managedFields",
              "resourceVersion",
              "selfLink",
              "uid",
            ],
            c: [
              ["annotations", { l: ["kubectl.kubernetes.io/last-applied-configuration"], c: [] }],
              ["labels", { l: ["x"], c: [] }],
            ],
          },
        ],
      ],
    });
    // "" is the whole object (RFC 6901): nothing is left to compare.
    expect(unchangedExpression([], [""])).toBe("true");
  });

  it("picks the union of the ignore rules matching the request's kind, most specific first", () => {
    const rules = [
      { apiGroups: ["apps"], kinds: ["Deployment"], jsonPointers: ["/spec/replicas"] },
      { apiGroups: ["*"], kinds: ["*"], jsonPointers: ["/metadata/labels/team"] },
      { apiGroups: ["apps"], kinds: ["*"], jsonPointers: ["/spec/paused"] },
    ];
    const branches = ignoreBranches(rules).map((b) => [b.group, b.kind, b.pointers]);
    expect(branches).toEqual([
      ["apps", "Deployment", ["/metadata/labels/team", "/spec/paused", "/spec/replicas"]],
      ["apps", "*", ["/metadata/labels/team", "/spec/paused"]],
      ["*", "*", ["/metadata/labels/team"]],
    ]);
    const expression = unchangedExpression(rules);
    expect(expression).toContain(
      'request.resource.group == "apps" && (request.kind.kind == "Deployment" || request.resource.resource == "deployments")',
    );
  });
});
