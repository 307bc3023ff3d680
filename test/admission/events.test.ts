/** Events for allowed out-of-band changes: who, why, until when; never a value. */
import { describe, expect, it } from "vitest";
import { decide } from "../../src/admission/decide.js";
import {
  EVENT_ANNOTATIONS,
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
  request,
} from "./helpers.js";

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
