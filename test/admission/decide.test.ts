/** decide(): who always passes, what is in scope, lifecycle, field diffs, Secrets, policies. */
import { describe, expect, it } from "vitest";
import type { DecideContext } from "../../src/admission/context.js";
import type { GuardPolicy } from "../../src/admission/policy-types.js";
import type { AdmissionObject } from "../../src/admission/review-types.js";
import {
  NOW,
  type Actor,
  type RequestParts,
  alice,
  core,
  defaultPolicy,
  deployment,
  policyOf,
  reconciler,
  request,
} from "./helpers.js";

const policy = defaultPolicy();

function reason(
  parts: RequestParts,
  policies: readonly GuardPolicy[] = [policy],
  ctx?: DecideContext,
) {
  return core.decide(request(parts), policies, NOW, ctx).reason;
}

const sa = (ns: string, name: string): Actor => ({
  username: `system:serviceaccount:${ns}:${name}`,
  groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"],
});
const admin: Actor = {
  username: "kubernetes-admin",
  groups: ["system:masters", "system:authenticated"],
};
const edited = deployment({}, { image: "web:2" });

describe("identities that always pass", () => {
  it.each([
    ["a kubelet", { username: "system:node:n1", groups: ["system:nodes", "system:authenticated"] }],
    ["the garbage collector", sa("kube-system", "generic-garbage-collector")],
    ["the HPA", sa("kube-system", "horizontal-pod-autoscaler")],
    ["the controller-manager", { username: "system:kube-controller-manager", groups: [] }],
    ["the scheduler", { username: "system:kube-scheduler", groups: [] }],
    ["the API server", { username: "system:apiserver", groups: ["system:masters"] }],
  ])("%s", (_who, actor: Actor) => {
    expect(reason({ actor, object: edited })).toBe("SystemIdentity");
    expect(reason({ actor, operation: "DELETE" })).toBe("SystemIdentity");
  });

  it("not cluster admins: system:masters is people", () => {
    expect(reason({ actor: admin, object: edited })).toBe("OutOfBandChange");
  });

  it("policy exemptions, added to the built-in ones", () => {
    const p = policyOf({ ...specOf(policy), exemptions: { users: ["kubernetes-admin"] } });
    expect(reason({ actor: admin, object: edited }, [p])).toBe("Exempt");
    expect(p.exemptions.groups).toContain("system:nodes");
  });
});

describe("reconcilers: userInfo decides, field managers never do", () => {
  it("admits the bundled reconciler by default", () => {
    expect(reason({ actor: reconciler, object: edited })).toBe("Reconciler");
  });

  it("admits Argo CD and Flux only when their preset is named", () => {
    const argo = sa("argocd", "argocd-application-controller");
    const flux = sa("flux-system", "kustomize-controller");
    expect(reason({ actor: argo, object: edited })).toBe("OutOfBandChange");
    const p = policyOf({ ...specOf(policy), reconcilers: { presets: ["argocd", "flux"] } });
    expect(reason({ actor: argo, object: edited }, [p])).toBe("Reconciler");
    expect(reason({ actor: flux, object: edited }, [p])).toBe("Reconciler");
    expect(reason({ actor: sa("argocd", "argocd-server"), object: edited }, [p])).toBe(
      "OutOfBandChange",
    );
    expect(p.reconcilers.serviceAccounts).not.toContain(
      "gitops-guard-system/gitops-guard-reconciler",
    );
  });

  it("denies alice using Argo CD's field manager, and says why", () => {
    const d = core.decide(
      request({ actor: alice, object: edited, fieldManager: "argocd-controller" }),
      [policyOf({ ...specOf(policy), reconcilers: { presets: ["argocd"] } })],
      NOW,
    );
    expect(d.reason).toBe("OutOfBandChange");
    expect(d.message).toContain(`field manager "argocd-controller" is Argo CD's`);
  });

  it("ignores tracking annotations and labels", () => {
    const tracked = deployment({
      "argocd.argoproj.io/tracking-id": "app:apps/Deployment:shop/web",
    });
    expect(reason({ actor: alice, object: { ...tracked, spec: edited["spec"] } })).toBe(
      "OutOfBandChange",
    );
  });
});

describe("what is never guarded", () => {
  const everything = policyOf({ match: { resources: [{ kinds: ["*"] }] } });

  it.each([
    ["a Lease", "coordination.k8s.io", "Lease", "leases"],
    ["an Event", "", "Event", "events"],
    ["an events.k8s.io Event", "events.k8s.io", "Event", "events"],
  ])("%s", (_what, group, kind, resource) => {
    const parts = {
      actor: alice,
      kind: { group, version: "v1", kind },
      resource: { group, version: "v1", resource },
    };
    expect(reason(parts, [everything])).toBe("SystemResource");
  });

  it.each(["kube-system", "kube-public", "kube-node-lease", "gitops-guard-system"])(
    "namespace %s",
    (ns) => {
      expect(reason({ actor: alice, namespace: ns, object: edited }, [everything])).toBe(
        "ExcludedNamespace",
      );
    },
  );

  it("the webhook's own namespace when configured elsewhere", () => {
    const ctx = { ownNamespace: "guard" };
    expect(reason({ actor: alice, namespace: "guard", object: edited }, [everything], ctx)).toBe(
      "ExcludedNamespace",
    );
    expect(reason({ actor: alice, object: edited }, [everything], ctx)).toBe("OutOfBandChange");
  });

  it("kinds the policy does not name", () => {
    const pod = { group: "", version: "v1", kind: "Pod" };
    expect(
      reason({ actor: alice, kind: pod, resource: { group: "", version: "v1", resource: "pods" } }),
    ).toBe("NotGuarded");
  });

  it("anything without a policy", () => {
    expect(reason({ actor: alice, object: edited }, [])).toBe("NoPolicy");
  });
});

describe("subresources", () => {
  const scale = { group: "autoscaling", version: "v1", kind: "Scale" };
  const scaleObj = (n: number): AdmissionObject => ({
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    spec: { replicas: n },
  });

  it("status and scale pass unless the policy guards them", () => {
    expect(reason({ actor: alice, subResource: "status", object: edited })).toBe(
      "StatusSubresource",
    );
    const parts = {
      actor: alice,
      subResource: "scale",
      kind: scale,
      object: scaleObj(5),
      oldObject: scaleObj(2),
    };
    expect(reason(parts)).toBe("ScaleSubresource");
    const strict = policyOf({
      match: {
        resources: [{ apiGroups: ["apps"], kinds: ["Deployment"], subresources: ["scale"] }],
      },
    });
    expect(reason(parts, [strict])).toBe("OutOfBandChange");
    expect(
      reason({ ...parts, actor: sa("kube-system", "horizontal-pod-autoscaler") }, [strict]),
    ).toBe("SystemIdentity");
  });

  it("exec and other subresources pass", () => {
    const parts = {
      actor: alice,
      operation: "CONNECT" as const,
      subResource: "exec",
      object: null,
      oldObject: null,
    };
    expect(reason(parts)).toBe("Subresource");
  });
});

describe("lifecycle", () => {
  const operator = sa("cert-manager", "cert-manager");

  it("finalizer removal passes for anyone", () => {
    const before = deployment({}, { finalizers: ["a.example/x", "b.example/y"] });
    const after = deployment({}, { finalizers: ["b.example/y"] });
    expect(reason({ actor: operator, oldObject: before, object: after })).toBe("FinalizerRemoval");
    expect(reason({ actor: alice, oldObject: before, object: deployment() })).toBe(
      "FinalizerRemoval",
    );
  });

  it("adding a finalizer, or removing one together with other changes, does not", () => {
    const before = deployment({}, { finalizers: ["a.example/x"] });
    expect(reason({ actor: alice, oldObject: deployment(), object: before })).toBe(
      "OutOfBandChange",
    );
    const both = deployment({}, { image: "web:2" });
    expect(reason({ actor: alice, oldObject: before, object: both })).toBe("OutOfBandChange");
  });

  it("any update or delete once deletion started passes", () => {
    const dying = deployment({}, { deleting: true, finalizers: ["a.example/x"] });
    expect(reason({ actor: alice, oldObject: dying, object: { ...dying, spec: {} } })).toBe(
      "Deleting",
    );
    expect(reason({ actor: alice, operation: "DELETE", oldObject: dying })).toBe("Deleting");
  });
});

describe("field diffs", () => {
  it("metadata noise and status are no change", () => {
    const after = { ...deployment(), status: { replicas: 3 } };
    const meta = {
      ...after.metadata,
      resourceVersion: "43",
      generation: 7,
      managedFields: [{ manager: "kubectl" }],
    };
    expect(reason({ actor: alice, object: { ...after, metadata: meta } })).toBe("NoChange");
  });

  it("ignoreFields (the default policy ignores Deployment /spec/replicas)", () => {
    expect(reason({ actor: alice, object: deployment({}, { replicas: 9 }) })).toBe("IgnoredFields");
    const d = core.decide(
      request({ actor: alice, object: deployment({}, { replicas: 9, image: "x:1" }) }),
      [policy],
      NOW,
    );
    expect(d).toMatchObject({
      reason: "OutOfBandChange",
      changedFields: ["/spec/template/spec/containers/0/image"],
    });
  });

  it("names escaped pointers for annotation keys", () => {
    const d = core.decide(
      request({ actor: alice, object: deployment({ "example.com/owner": "me" }) }),
      [policy],
      NOW,
    );
    expect(d.changedFields).toEqual(["/metadata/annotations/example.com~1owner"]);
  });
});

describe("plaintext Secrets", () => {
  const secretKind = { group: "", version: "v1", kind: "Secret" };
  const secretRes = { group: "", version: "v1", resource: "secrets" };
  const secret = (
    data?: Record<string, string>,
    labels?: Record<string, string>,
  ): AdmissionObject => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db", namespace: "shop", ...(labels === undefined ? {} : { labels }) },
    ...(data === undefined ? {} : { data }),
  });
  const parts = (
    actor: Actor,
    object: AdmissionObject,
    oldObject: AdmissionObject | null = null,
  ): RequestParts => ({
    actor,
    kind: secretKind,
    resource: secretRes,
    name: "db",
    operation: oldObject === null ? "CREATE" : "UPDATE",
    object,
    oldObject,
  });
  const writer = sa("gitops-guard-system", "gitops-guard-secrets");

  it("denies data from people, admits the secrets controller and reconcilers", () => {
    expect(reason(parts(alice, secret({ password: "c2VjcmV0" })))).toBe("PlaintextSecret");
    expect(reason(parts(alice, secret({ password: "bmV3" }), secret({ password: "b2xk" })))).toBe(
      "PlaintextSecret",
    );
    expect(reason(parts(writer, secret({ password: "c2VjcmV0" })))).toBe("SecretsWriter");
    expect(reason(parts(reconciler, secret({ password: "c2VjcmV0" })))).toBe("Reconciler");
  });

  it("a change that adds no data is an ordinary out-of-band change", () => {
    const before = secret({ password: "b2xk" });
    expect(reason(parts(alice, secret({ password: "b2xk" }, { x: "y" }), before))).toBe(
      "OutOfBandChange",
    );
  });

  it("applies in guarded namespaces even where Secret is not a guarded kind", () => {
    const p = policyOf({
      match: { resources: [{ kinds: ["Deployment"] }] },
      secrets: { denyPlaintext: true },
    });
    expect(reason(parts(alice, secret({ password: "c2VjcmV0" })), [p])).toBe("PlaintextSecret");
    expect(reason(parts(alice, secret()), [p])).toBe("NotGuarded");
    expect(reason({ ...parts(alice, secret({ a: "Yg==" })), namespace: "kube-system" }, [p])).toBe(
      "ExcludedNamespace",
    );
  });

  it("is off by default", () => {
    const p = policyOf({ match: { resources: [{ kinds: ["Deployment"] }] } });
    expect(reason(parts(alice, secret({ password: "c2VjcmV0" })), [p])).toBe("NotGuarded");
  });
});

describe("namespaceSelector", () => {
  const selected = policyOf({
    match: {
      resources: [{ kinds: ["Deployment"] }],
      namespaceSelector: { matchLabels: { guarded: "yes" } },
    },
  });
  const labels = (ns: string): Record<string, string> | undefined =>
    ns === "shop" ? { guarded: "yes" } : undefined;

  it("guards selected namespaces only", () => {
    expect(reason({ actor: alice, object: edited }, [selected], { namespaceLabels: labels })).toBe(
      "OutOfBandChange",
    );
    expect(
      reason({ actor: alice, namespace: "lab", object: edited }, [selected], {
        namespaceLabels: labels,
      }),
    ).toBe("NotGuarded");
  });

  it("knows kubernetes.io/metadata.name without a lookup", () => {
    const notLab = policyOf({
      match: {
        resources: [{ kinds: ["Deployment"] }],
        namespaceSelector: {
          matchExpressions: [
            { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["lab"] },
          ],
        },
      },
    });
    expect(reason({ actor: alice, object: edited }, [notLab])).toBe("OutOfBandChange");
    expect(reason({ actor: alice, namespace: "lab", object: edited }, [notLab])).toBe("NotGuarded");
  });
});

describe("several policies", () => {
  const audit = policyOf(
    { mode: "Audit", match: { resources: [{ kinds: ["Deployment"] }] } },
    "a-audit",
  );
  const argo = policyOf(
    { match: { resources: [{ kinds: ["Deployment"] }] }, reconcilers: { presets: ["argocd"] } },
    "b-argo",
  );

  it("a denial wins and keeps the other policies' warnings", () => {
    const d = core.decide(request({ actor: alice, object: edited }), [audit, policy], NOW);
    expect(d).toMatchObject({ effect: "deny", policy: "default" });
    expect(d.warnings).toHaveLength(1);
  });

  it("every policy must accept the identity", () => {
    const argoSa = sa("argocd", "argocd-application-controller");
    expect(reason({ actor: argoSa, object: edited }, [argo])).toBe("Reconciler");
    expect(reason({ actor: argoSa, object: edited }, [argo, policy])).toBe("OutOfBandChange");
  });

  it("an allow names the policy that guards the object", () => {
    const pods = policyOf({ match: { resources: [{ kinds: ["Pod"] }] } }, "a-pods");
    const d = core.decide(request({ actor: reconciler, object: edited }), [pods, policy], NOW);
    expect(d).toMatchObject({ reason: "Reconciler", policy: "default" });
  });
});

describe("cluster-scoped objects", () => {
  it("are guarded by kind; a Namespace is judged on its own labels", () => {
    const p = policyOf({
      breakGlass: { groups: ["incident-responders"] },
      match: {
        resources: [{ kinds: ["Namespace"] }],
        namespaceSelector: { matchLabels: { tier: "prod" } },
      },
    });
    const ns = (labels: Record<string, string>): AdmissionObject => ({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "shop", labels },
    });
    const parts = (labels: Record<string, string>): RequestParts => ({
      actor: alice,
      kind: { group: "", version: "v1", kind: "Namespace" },
      resource: { group: "", version: "v1", resource: "namespaces" },
      name: "shop",
      namespace: "shop", // as the API server sends it for a Namespace
      operation: "DELETE",
      oldObject: ns(labels),
    });
    const d = core.decide(request(parts({ tier: "prod" })), [p], NOW);
    expect(d).toMatchObject({
      reason: "OutOfBandChange",
      object: { kind: "Namespace", name: "shop" },
    });
    expect(d.object.namespace).toBeUndefined();
    expect(d.message).toContain("gitops-guard break-glass Namespace/shop --reason");
    expect(reason(parts({ tier: "dev" }), [p])).toBe("NotGuarded");
  });
});

function specOf(p: GuardPolicy): Record<string, unknown> {
  return JSON.parse(JSON.stringify(p.spec)) as Record<string, unknown>;
}
