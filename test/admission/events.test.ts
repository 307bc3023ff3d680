/** Events for allowed out-of-band changes: who, why, until when; never a value. */
import { describe, expect, it } from "vitest";
import { decide } from "../../src/admission/decide.js";
import type { GitLocation } from "../../src/admission/decision.js";
import {
  EVENT_ANNOTATIONS,
  USER_UID_ANNOTATION,
  admissionEvent,
  isPolicyDenial,
  microTime,
  wantsEvent,
} from "../../src/admission/events.js";
import {
  HOUR,
  NOW,
  alice,
  bob,
  defaultPolicy,
  deployment,
  glass,
  policyOf,
  reconciler,
  request,
} from "./helpers.js";
import type { GuardPolicy } from "../../src/admission/policy-types.js";
import type { AdmissionObject, AdmissionRequest } from "../../src/admission/review-types.js";
import type { KubeObject, ObjectRef } from "../../src/kube/objects.js";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe("admission Events", () => {
  it("record a break-glass: user, groups, reason, expiry, the fields changed", () => {
    const mark = glass("bob", "INC-7", NOW + HOUR);
    const req = request({
      actor: bob,
      object: deployment(mark, { image: "web:2" }),
      oldObject: deployment(mark),
    });
    const decision = decide(req, [defaultPolicy()], NOW);
    expect(decision.reason).toBe("BreakGlass");
    expect(wantsEvent(decision, req)).toBe(true);
    const event = admissionEvent({
      decision,
      request: req,
      now: NOW,
      instance: "pod-1",
      id: "0a1b",
    });
    expect(event).toMatchObject({
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "web.0a1b", namespace: "shop" },
      eventTime: "2026-01-01T00:00:00.000000Z",
      reportingController: "gitops-guard.io/admission",
      reportingInstance: "pod-1",
      action: "Admit",
      reason: "BreakGlass",
      type: "Warning",
      regarding: { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" },
    });
    expect(event.metadata.name).toMatch(DNS_SUBDOMAIN);
    expect(event.metadata.annotations).toMatchObject({
      [EVENT_ANNOTATIONS.user]: "bob",
      [EVENT_ANNOTATIONS.groups]: '["incident-responders","system:authenticated"]',
      [EVENT_ANNOTATIONS.reason]: "INC-7",
      [EVENT_ANNOTATIONS.expires]: "2026-01-01T01:00:00Z",
      [EVENT_ANNOTATIONS.holder]: "bob",
      [EVENT_ANNOTATIONS.changedFields]: '["/spec/template/spec/containers/0/image"]',
    });
    expect(String(event["note"])).toContain(
      'bob (groups: incident-responders, system:authenticated), reason "INC-7"',
    );
  });

  it("record an Audit-mode allow with what Enforce would have denied", () => {
    const req = request({ actor: alice, object: deployment({}, { image: "web:9" }) });
    const decision = decide(
      req,
      [
        policyOf({
          mode: "Audit",
          match: { resources: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] },
        }),
      ],
      NOW,
    );
    const event = admissionEvent({ decision, request: req, now: NOW, instance: "pod-1", id: "ff" });
    expect(event["reason"]).toBe("AuditMode");
    expect(event.metadata.annotations?.[EVENT_ANNOTATIONS.wouldDeny]).toBe("OutOfBandChange");
  });

  it("never carry a Secret's data", () => {
    const secret = (value: string): Record<string, unknown> => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db", namespace: "shop" },
      data: { password: Buffer.from(value).toString("base64") },
    });
    const req = request({
      actor: alice,
      kind: { group: "", version: "v1", kind: "Secret" },
      resource: { group: "", version: "v1", resource: "secrets" },
      name: "db",
      object: secret("hunter2-new"),
      oldObject: secret("hunter2"),
    });
    const decision = decide(
      req,
      [policyOf({ mode: "Audit", match: { resources: [{ apiGroups: [""], kinds: ["Secret"] }] } })],
      NOW,
    );
    const text = JSON.stringify(
      admissionEvent({ decision, request: req, now: NOW, instance: "p", id: "1" }),
    );
    expect(text).toContain("/data/password");
    expect(text).not.toContain(Buffer.from("hunter2-new").toString("base64"));
    expect(text).not.toContain("hunter2");
  });

  it("are not written for dry runs or plain allows", () => {
    const policy = defaultPolicy();
    const mark = glass("bob", "INC-7", NOW + HOUR);
    const dry = request({
      actor: bob,
      object: deployment(mark),
      oldObject: deployment(mark),
      dryRun: true,
    });
    expect(wantsEvent(decide(dry, [policy], NOW), dry)).toBe(false);
    const deniedDry = request({
      actor: alice,
      object: deployment({}, { image: "web:2" }),
      dryRun: true,
    });
    expect(decide(deniedDry, [policy], NOW).effect).toBe("deny");
    expect(wantsEvent(decide(deniedDry, [policy], NOW), deniedDry)).toBe(false);
    const plain = request({ actor: alice, object: deployment(), oldObject: deployment() });
    expect(wantsEvent(decide(plain, [policy], NOW), plain)).toBe(false);
    expect(microTime(Date.UTC(2026, 0, 1, 0, 0, 0, 7))).toBe("2026-01-01T00:00:00.007000Z");
  });

  it("record a policy's denial in Enforce mode: action Deny, who, the paths, the policy", () => {
    const policy = defaultPolicy();
    const req = request({ actor: alice, object: deployment({}, { image: "web:2" }) });
    const decision = decide(req, [policy], NOW);
    expect(decision).toMatchObject({ effect: "deny", reason: "OutOfBandChange" });
    expect(isPolicyDenial(decision)).toBe(true);
    expect(wantsEvent(decision, req)).toBe(true);
    const event = admissionEvent({ decision, request: req, now: NOW, instance: "p", id: "ab" });
    expect(event).toMatchObject({
      metadata: { labels: { "app.kubernetes.io/managed-by": "gitops-guard" } },
      reportingController: "gitops-guard.io/admission",
      action: "Deny",
      reason: "OutOfBandChange",
      type: "Warning",
      regarding: { kind: "Deployment", namespace: "shop", name: "web" },
    });
    expect(event.metadata.annotations).toMatchObject({
      [EVENT_ANNOTATIONS.user]: "alice",
      [EVENT_ANNOTATIONS.groups]: '["developers","system:authenticated"]',
      [EVENT_ANNOTATIONS.decision]: "OutOfBandChange",
      [EVENT_ANNOTATIONS.policy]: policy.name,
      [EVENT_ANNOTATIONS.operation]: "UPDATE",
      [EVENT_ANNOTATIONS.changedFields]: '["/spec/template/spec/containers/0/image"]',
    });
    expect(String(event["note"])).toBe(
      `OutOfBandChange: alice (groups: developers, system:authenticated) was denied UPDATE /spec/template/spec/containers/0/image by GuardPolicy ${policy.name}.`,
    );
    // Audit mode allows: its Event is the AuditMode one, never a denial.
    const match = { resources: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] };
    const audit = decide(req, [policyOf({ mode: "Audit", match })], NOW);
    expect(audit.reason).toBe("AuditMode");
    expect(isPolicyDenial(audit)).toBe(false);
  });
});

describe("attribution facts", () => {
  const location: GitLocation = {
    gitSync: { namespace: "shop", name: "app" },
    url: "https://git.example.com/shop.git",
    path: "deploy/web.yaml",
  };
  /** The GitSync inventory holds shop/web, as apps/v1 Deployment (never as a Scale). */
  const locate = (ref: ObjectRef): GitLocation | undefined =>
    ref.kind === "Deployment" && ref.namespace === "shop" && ref.name === "web"
      ? location
      : undefined;
  const fieldsOf = (event: KubeObject): unknown =>
    JSON.parse(event.metadata.annotations?.[EVENT_ANNOTATIONS.changedFields] ?? "null");
  const eventOf = (req: AdmissionRequest, policies: readonly GuardPolicy[]): KubeObject => {
    const decision = decide(req, policies, NOW, { locate });
    expect(wantsEvent(decision, req)).toBe(true);
    return admissionEvent({ decision, request: req, now: NOW, instance: "p", id: "ab" });
  };

  it("carry the requester's UID when the API server gives one, and no key when it does not", () => {
    const mark = glass("bob", "INC-7", NOW + HOUR);
    const parts = { actor: bob, object: deployment(mark, { image: "web:2" }) };
    const plain = request({ ...parts, oldObject: deployment(mark) });
    const withUid = { ...plain, userInfo: { ...plain.userInfo, uid: "6f1c-bob" } };
    expect(eventOf(withUid, [defaultPolicy()]).metadata.annotations).toMatchObject({
      [EVENT_ANNOTATIONS.user]: "bob",
      [USER_UID_ANNOTATION]: "6f1c-bob",
    });
    expect(USER_UID_ANNOTATION).toBe("gitops-guard.io/uid");
    const without = eventOf(plain, [defaultPolicy()]).metadata.annotations ?? {};
    expect(Object.keys(without)).not.toContain(USER_UID_ANNOTATION);
  });

  it("name the fields changed of an inventoried object no policy selects (NoPolicy, NotGuarded)", () => {
    const req = request({ actor: alice, object: deployment({}, { image: "web:2" }) });
    const image = ["/spec/template/spec/containers/0/image"];
    const noPolicy = eventOf(req, []);
    expect(noPolicy["reason"]).toBe("NoPolicy");
    expect(fieldsOf(noPolicy)).toEqual(image);
    const configMapsOnly = policyOf({
      match: { resources: [{ apiGroups: [""], kinds: ["ConfigMap"] }] },
    });
    const notGuarded = eventOf(req, [configMapsOnly]);
    expect(notGuarded["reason"]).toBe("NotGuarded");
    expect(fieldsOf(notGuarded)).toEqual(image);
    // A no-op update (a reconciler's apply that changes nothing) is no drift: no fact, no write.
    const same = request({ actor: alice, object: deployment(), oldObject: deployment() });
    expect(wantsEvent(decide(same, [], NOW, { locate }), same)).toBe(false);
  });

  it("make no fact of the reconciler's own writes, where no policy names reconcilers", () => {
    const edit = { object: deployment({}, { image: "web:2" }) };
    const byReconciler = request({ actor: reconciler, ...edit });
    const reconcilerUsername = reconciler.username;
    const context = { locate, reconcilerUsername };
    const configMapsOnly = policyOf({
      match: { resources: [{ apiGroups: [""], kinds: ["ConfigMap"] }] },
    });
    for (const policies of [[], [configMapsOnly]]) {
      const decision = decide(byReconciler, policies, NOW, context);
      expect(decision.effect).toBe("allow");
      expect(decision.byReconciler).toBe(true);
      expect(wantsEvent(decision, byReconciler)).toBe(false);
      const prune = request({ actor: reconciler, operation: "DELETE", oldObject: deployment() });
      expect(wantsEvent(decide(prune, policies, NOW, context), prune)).toBe(false);
      // A GitSync's own account writing what it owns is Git's too.
      const tenant = { ...context, reconcilerUsername: "other", gitSyncWriter: () => "shop/web" };
      expect(wantsEvent(decide(byReconciler, policies, NOW, tenant), byReconciler)).toBe(false);
      // Anyone else's write of the same object is a fact.
      const byAlice = request({ actor: alice, ...edit });
      expect(wantsEvent(decide(byAlice, policies, NOW, context), byAlice)).toBe(true);
    }
  });

  it("name a scale's parent and /spec/replicas, so the auditor joins it to the Deployment's drift", () => {
    const scaleObj = (n: number): AdmissionObject => ({
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata: { name: "web", namespace: "shop", resourceVersion: String(40 + n) },
      spec: { replicas: n },
      status: { replicas: 2 },
    });
    const req = request({
      actor: alice,
      subResource: "scale",
      kind: { group: "autoscaling", version: "v1", kind: "Scale" },
      object: scaleObj(5),
      oldObject: scaleObj(2),
    });
    for (const policies of [[defaultPolicy()], []]) {
      const event = eventOf(req, policies);
      expect(event["regarding"]).toEqual({
        apiVersion: "apps/v1",
        kind: "Deployment",
        namespace: "shop",
        name: "web",
      });
      expect(fieldsOf(event)).toEqual(["/spec/replicas"]);
    }
    expect(decide(req, [defaultPolicy()], NOW, { locate }).reason).toBe("ScaleSubresource");
    expect(decide(req, [], NOW, { locate }).location).toEqual(location);
  });
});
