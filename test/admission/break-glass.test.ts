/**
 * The break-glass contract: bob (incident-responders) may, alice may not; the expiry is bounded;
 * nobody else may use, extend or strip someone's break-glass; userInfo decides every time.
 */
import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/admission/decision.js";
import type { AdmissionObject } from "../../src/admission/review-types.js";
import {
  HOUR,
  NOW,
  type Actor,
  alice,
  bob,
  carol,
  core,
  defaultPolicy,
  deployment,
  glass,
  policyOf,
  request,
} from "./helpers.js";

const policy = defaultPolicy();
const MINUTE = 60_000;

function update(actor: Actor, before: AdmissionObject, after: AdmissionObject): Decision {
  return core.decide(request({ actor, oldObject: before, object: after }), [policy], NOW);
}

const bobsMark = glass("bob", "INC-42", NOW + HOUR);

describe("setting a break-glass", () => {
  it("admits bob, with a warning and audit annotations", () => {
    const d = update(bob, deployment(), deployment(bobsMark, { image: "web:hotfix" }));
    expect(d).toMatchObject({ effect: "allow-with-warning", reason: "BreakGlass" });
    expect(d.breakGlass).toEqual({ reason: "INC-42", by: "bob", expires: "2026-01-01T01:00:00Z" });
    expect(d.warnings).toEqual([
      "gitops-guard: break-glass by bob until 2026-01-01T01:00:00Z: INC-42",
    ]);
    expect(d.auditAnnotations).toMatchObject({
      "break-glass-by": "bob",
      "break-glass-reason": "INC-42",
    });
    const res = core.review(reviewBody(bob, deployment(), deployment(bobsMark)), [policy], NOW);
    expect(res.body).toMatchObject({ response: { allowed: true, warnings: d.warnings } });
  });

  it("admits bob on CREATE", () => {
    const req = request({ actor: bob, operation: "CREATE", object: deployment(bobsMark) });
    expect(core.decide(req, [policy], NOW).reason).toBe("BreakGlass");
  });

  it("denies alice, who is not in a break-glass group", () => {
    const d = update(alice, deployment(), deployment(glass("alice", "INC-42", NOW + HOUR)));
    expect(d).toMatchObject({ effect: "deny", reason: "BreakGlassDenied" });
    expect(d.message).toContain("alice is not in a break-glass group (incident-responders)");
  });

  it("denies a mark in someone else's name", () => {
    expect(update(alice, deployment(), deployment(bobsMark)).reason).toBe("BreakGlassDenied");
    const d = update(carol, deployment(), deployment(bobsMark));
    expect(d.reason).toBe("BreakGlassDenied");
    expect(d.message).toContain(
      'gitops-guard.io/break-glass-by must be your own user name "carol"',
    );
  });

  it("denies a mark without break-glass-by", () => {
    const { "gitops-guard.io/break-glass-by": _by, ...noBy } = bobsMark;
    expect(update(bob, deployment(), deployment(noBy)).reason).toBe("BreakGlassDenied");
  });

  it.each([
    ["beyond maxDuration", glass("bob", "INC-1", NOW + 5 * HOUR), "more than 4h (maxDuration)"],
    ["past the skew allowance", glass("bob", "INC-1", NOW + 4 * HOUR + 2 * MINUTE), "maxDuration"],
    ["expired", glass("bob", "INC-1", NOW - MINUTE), "is in the past"],
    ["expiring now", glass("bob", "INC-1", NOW), "is in the past"],
    [
      "a reason that does not match",
      glass("bob", "fixing things", NOW + HOUR),
      "does not match ^INC-[0-9]+",
    ],
    ["an empty reason", glass("bob", " ", NOW + HOUR), "(the reason) is missing"],
    ["a reason too long", glass("bob", `INC-1 ${"x".repeat(300)}`, NOW + HOUR), "longer than 256"],
  ])("denies an expiry or reason that is %s", (_what, mark, problem) => {
    const d = update(bob, deployment(), deployment(mark));
    expect(d).toMatchObject({ effect: "deny", reason: "BreakGlassDenied" });
    expect(d.message).toContain(problem);
  });

  it("denies an expiry that is not RFC 3339", () => {
    const mark = { ...bobsMark, "gitops-guard.io/break-glass-expires": "in two hours" };
    expect(update(bob, deployment(), deployment(mark)).message).toContain(
      "must be an RFC 3339 time",
    );
  });

  it("admits exactly maxDuration, and a minute of clock skew", () => {
    expect(
      update(bob, deployment(), deployment(glass("bob", "INC-1", NOW + 4 * HOUR))).reason,
    ).toBe("BreakGlass");
    const skewed = glass("bob", "INC-1", NOW + 4 * HOUR + 30_000);
    expect(update(bob, deployment(), deployment(skewed)).reason).toBe("BreakGlass");
  });
});

describe("acting under an existing break-glass", () => {
  it("lets its holder keep changing the object while it is active", () => {
    const d = update(bob, deployment(bobsMark), deployment(bobsMark, { image: "web:2" }));
    expect(d.reason).toBe("BreakGlass");
    expect(d.changedFields).toEqual(["/spec/template/spec/containers/0/image"]);
  });

  it("lets nobody else change the object, not even another responder", () => {
    for (const actor of [alice, carol]) {
      const d = update(actor, deployment(bobsMark), deployment(bobsMark, { image: "web:2" }));
      expect(d.reason).toBe("BreakGlassDenied");
      expect(d.message).toContain("bob holds the break-glass on it until 2026-01-01T01:00:00Z");
    }
  });

  it("denies someone else extending it", () => {
    const d = update(
      carol,
      deployment(bobsMark),
      deployment(glass("bob", "INC-42", NOW + 2 * HOUR)),
    );
    expect(d.reason).toBe("BreakGlassDenied");
    const takeover = update(
      carol,
      deployment(bobsMark),
      deployment(glass("carol", "INC-43", NOW + HOUR)),
    );
    expect(takeover.reason).toBe("BreakGlassDenied");
  });

  it("denies someone else stripping it", () => {
    expect(update(alice, deployment(bobsMark), deployment()).reason).toBe("BreakGlassDenied");
    expect(update(carol, deployment(bobsMark), deployment()).reason).toBe("BreakGlassDenied");
  });

  it("lets the holder extend it within maxDuration of now, not beyond", () => {
    const later = glass("bob", "INC-42", NOW + 3 * HOUR);
    expect(update(bob, deployment(bobsMark), deployment(later)).reason).toBe("BreakGlass");
    const tooLate = glass("bob", "INC-42", NOW + 6 * HOUR);
    expect(update(bob, deployment(bobsMark), deployment(tooLate)).reason).toBe("BreakGlassDenied");
  });

  it("lets the holder end it", () => {
    const d = update(bob, deployment(bobsMark), deployment());
    expect(d).toMatchObject({ effect: "allow-with-warning", reason: "BreakGlassEnded" });
  });

  it("re-checks the holder's groups: leaving incident-responders ends the privilege", () => {
    const former: Actor = { username: "bob", groups: ["system:authenticated"] };
    const d = update(former, deployment(bobsMark), deployment(bobsMark, { image: "web:2" }));
    expect(d.reason).toBe("BreakGlassDenied");
    expect(d.message).toContain("bob is not in a break-glass group");
  });

  it("re-checks the window: a mark set past the webhook with a far expiry does not count", () => {
    const forged = glass("bob", "INC-42", NOW + 48 * HOUR);
    const d = update(bob, deployment(forged), deployment(forged, { image: "web:2" }));
    expect(d.reason).toBe("OutOfBandChange");
    expect(d.message).toContain("are not a valid break-glass");
  });

  it("does not let a dead mark (from Git, or without a holder) lock responders out", () => {
    const { "gitops-guard.io/break-glass-by": _by, ...noHolder } = glass("x", "INC-1", NOW + HOUR);
    for (const dead of [noHolder, glass("mallory", "INC-1", NOW + 300 * 24 * HOUR)]) {
      const d = update(bob, deployment(dead), deployment(bobsMark, { image: "web:2" }));
      expect(d.reason).toBe("BreakGlass");
    }
  });

  it("admits the holder's DELETE and denies anyone else's", () => {
    const del = (actor: Actor): Decision =>
      core.decide(
        request({ actor, operation: "DELETE", oldObject: deployment(bobsMark) }),
        [policy],
        NOW,
      );
    expect(del(bob).reason).toBe("BreakGlass");
    expect(del(alice).reason).toBe("BreakGlassDenied");
  });
});

describe("an expired break-glass", () => {
  const expired = glass("bob", "INC-42", NOW - HOUR);

  it("no longer admits changes, and says why", () => {
    const d = update(bob, deployment(expired), deployment(expired, { image: "web:2" }));
    expect(d.reason).toBe("OutOfBandChange");
    expect(d.message).toContain(
      "Note: the break-glass by bob on it expired at 2025-12-31T23:00:00Z.",
    );
  });

  it("may be cleaned up on its own by its holder or a responder, not by alice", () => {
    expect(update(bob, deployment(expired), deployment()).reason).toBe("BreakGlassEnded");
    expect(update(carol, deployment(expired), deployment()).reason).toBe("BreakGlassEnded");
    expect(update(alice, deployment(expired), deployment()).reason).toBe("OutOfBandChange");
  });

  it("may not be removed together with other changes", () => {
    const d = update(bob, deployment(expired), deployment({}, { image: "web:2" }));
    expect(d.reason).toBe("OutOfBandChange");
  });
});

describe("break-glass and other rules", () => {
  it("judges dry-run requests the same way", () => {
    for (const [actor, reason] of [
      [bob, "BreakGlass"],
      [alice, "BreakGlassDenied"],
    ] as const) {
      const mark = glass(actor.username, "INC-7", NOW + HOUR);
      const req = request({ actor, object: deployment(mark), dryRun: true });
      expect(core.decide(req, [policy], NOW).reason).toBe(reason);
    }
  });

  it("cannot be hidden by ignoreFields", () => {
    const lax = policyOf({
      match: { resources: [{ apiGroups: ["apps"], kinds: ["Deployment"] }] },
      breakGlass: { groups: ["incident-responders"] },
      ignoreFields: [{ kinds: ["Deployment"], jsonPointers: ["/metadata/annotations"] }],
    });
    const req = request({ actor: alice, oldObject: deployment(bobsMark), object: deployment() });
    expect(core.decide(req, [lax], NOW).reason).toBe("BreakGlassDenied");
  });

  it("is answered with a warning in Audit mode when refused", () => {
    const spec = JSON.parse(JSON.stringify(policy.spec)) as Record<string, unknown>;
    const audit = policyOf({ ...spec, mode: "Audit" });
    const mark = glass("alice", "INC-1", NOW + HOUR);
    const req = request({ actor: alice, object: deployment(mark) });
    expect(core.decide(req, [audit], NOW)).toMatchObject({
      effect: "allow-with-warning",
      reason: "AuditMode",
      wouldDeny: "BreakGlassDenied",
    });
  });

  it("is not possible when the policy names no break-glass group", () => {
    const closed = policyOf({ match: { resources: [{ kinds: ["Deployment"] }] } });
    const d = core.decide(request({ actor: bob, object: deployment(bobsMark) }), [closed], NOW);
    expect(d.reason).toBe("BreakGlassDenied");
    expect(d.message).toContain("none are configured");
    expect(d.message).toContain("Break-glass is not enabled by this policy.");
  });
});

function reviewBody(actor: Actor, before: AdmissionObject, after: AdmissionObject): string {
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: request({ actor, oldObject: before, object: after }),
  });
}
