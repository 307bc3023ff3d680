/**
 * Every AdmissionReview in test/fixtures/admission (captured from real API servers, see
 * SOURCES.md) gets its expected decision under the DESIGN.md policy (guardpolicy-default.yaml).
 */
import { describe, expect, it } from "vitest";
import type { GitLocation, ReasonCode } from "../../src/admission/decision.js";
import type { ObjectRef } from "../../src/kube/objects.js";
import {
  NOW,
  core,
  defaultPolicy,
  fixtureNames,
  fixtureText,
  policyOf,
  reviewOf,
} from "./helpers.js";

type Row = readonly [effect: "allow" | "deny", reason: ReasonCode];

const EXPECTED: Readonly<Record<string, Row>> = {
  "01-create-secret-kubectl-csa.json": ["deny", "PlaintextSecret"],
  "02-create-configmap-kubectl-create.json": ["deny", "OutOfBandChange"],
  "03-create-service-kubectl-create.json": ["deny", "OutOfBandChange"],
  "04-update-pod-label-removed-by-admin.json": ["allow", "NotGuarded"],
  "05-delete-pod-by-admin.json": ["allow", "NotGuarded"],
  "06-update-pod-status-by-kubelet.json": ["allow", "SystemIdentity"],
  "07-create-deployment-kubectl-csa.json": ["deny", "OutOfBandChange"],
  "08-update-deployment-kubectl-patch.json": ["deny", "OutOfBandChange"],
  "09-delete-deployment-kubectl.json": ["deny", "OutOfBandChange"],
  "10-create-pod-by-replicaset-controller.json": ["allow", "SystemIdentity"],
  "11-delete-pod-kubectl-with-kubelet-managedfields.json": ["allow", "NotGuarded"],
  "12-create-pvc-kubectl-csa.json": ["allow", "NotGuarded"],
  "13-create-cronjob-kubectl-csa.json": ["allow", "NotGuarded"],
  "14-create-namespace-trimmed.json": ["allow", "NotGuarded"],
  "15-create-crd-instance-admissionpolicy.json": ["allow", "NotGuarded"],
  "16-create-clusterrole-system-admin.json": ["allow", "NotGuarded"],
  "17-create-pod-replicaset-controller-pepr.json": ["allow", "SystemIdentity"],
  "18-delete-pod-pepr.json": ["allow", "SystemIdentity"],
  "19-update-deployment-scale-subresource-docs.json": ["allow", "ScaleSubresource"],
};

describe("fixtures under the default policy", () => {
  const policy = defaultPolicy();

  it("has an expectation for every fixture file and no stale one", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(fixtureNames());
  });

  it.each(fixtureNames())("%s", (name) => {
    const [effect, reason] = EXPECTED[name] ?? ["?", "?"];
    const result = core.review(fixtureText(name), [policy], NOW);
    expect(result.httpStatus).toBe(200);
    if (result.httpStatus !== 200) return;
    const { response } = result.body;
    expect(result.body).toMatchObject({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
    });
    expect(response.uid).toBe(reviewOf(name).request.uid);
    expect(result.decision?.reason).toBe(reason);
    expect(response.allowed).toBe(effect === "allow");
    if (effect === "deny") {
      expect(response.status?.code).toBe(403);
      expect(response.status?.message).toContain("gitops-guard break-glass ");
    } else {
      expect(response.status).toBeUndefined();
    }
  });

  it("names the changed field and the break-glass command for kubectl patch (08)", () => {
    const decision = core.decide(
      reviewOf("08-update-deployment-kubectl-patch.json").request,
      [policy],
      NOW,
    );
    expect(decision.changedFields).toEqual(["/metadata/annotations/hello"]);
    expect(decision.message).toContain("The request changes /metadata/annotations/hello.");
    expect(decision.message).toContain(
      "gitops-guard break-glass Deployment/nginx -n default --reason '<matching ^INC-[0-9]+>' --for 1h",
    );
    expect(decision.message).toContain("minikube-user may not change it directly");
  });

  it("never puts Secret values in the denial (01)", () => {
    const result = core.review(fixtureText("01-create-secret-kubectl-csa.json"), [policy], NOW);
    const text = JSON.stringify(result.body);
    expect(text).not.toContain("MWYyZDFlMmU2N2Rm");
    expect(text).not.toContain("YWRtaW4=");
  });
});

describe("fixtures under the default policy in Audit mode", () => {
  const audit = policyOf({ ...defaultSpec(), mode: "Audit" }, "default");

  it.each(fixtureNames())("%s is allowed, with a warning where Enforce denies", (name) => {
    const [effect, reason] = EXPECTED[name] ?? ["?", "?"];
    const result = core.review(fixtureText(name), [audit], NOW);
    if (result.httpStatus !== 200) throw result.error;
    expect(result.body.response.allowed).toBe(true);
    if (effect === "deny") {
      expect(result.decision).toMatchObject({ reason: "AuditMode", wouldDeny: reason });
      expect(result.body.response.warnings?.[0]).toMatch(/^gitops-guard \(Audit mode\) would deny/);
      expect(result.body.response.auditAnnotations).toMatchObject({ "would-deny": reason });
    } else {
      expect(result.decision?.reason).toBe(reason);
    }
  });
});

describe("fixtures under a policy that guards the GitSync inventory (match.resources omitted)", () => {
  const policy = policyOf({ breakGlass: { groups: ["incident-responders"] } }, "inventory");
  const location: GitLocation = {
    gitSync: { namespace: "apps", name: "web" },
    url: "https://git.example/platform/apps.git",
    path: "deploy/nginx.yaml",
    revision: "0123456789abcdef0123",
  };
  const locate = (ref: ObjectRef): GitLocation | undefined =>
    ref.kind === "Deployment" && ref.namespace === "default" && ref.name === "nginx"
      ? location
      : undefined;
  const inventoryExpected: Readonly<Record<string, ReasonCode>> = {
    "07-create-deployment-kubectl-csa.json": "OutOfBandChange",
    "08-update-deployment-kubectl-patch.json": "OutOfBandChange",
    "09-delete-deployment-kubectl.json": "OutOfBandChange",
  };

  it.each(fixtureNames())("%s", (name) => {
    const decision = core.decide(reviewOf(name).request, [policy], NOW, { locate });
    const base = EXPECTED[name]?.[1];
    const expected =
      inventoryExpected[name] ?? (base === "SystemIdentity" ? "SystemIdentity" : "NotGuarded");
    expect(decision.reason).toBe(expected);
  });

  it("tells the user which GitSync, repository and file to change", () => {
    const req = reviewOf("09-delete-deployment-kubectl.json").request;
    const decision = core.decide(req, [policy], NOW, { locate });
    expect(decision.location).toEqual(location);
    expect(decision.message).toContain(
      "Make the change in Git: file deploy/nginx.yaml in https://git.example/platform/apps.git " +
        "(applied at 0123456789ab), applied by GitSync apps/web.",
    );
    expect(decision.message).toContain("The request deletes it.");
  });
});

function defaultSpec(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(defaultPolicy().spec)) as Record<string, unknown>;
}
