/** AdmissionReview v1 parsing and the responses built from decisions and errors. */
import { describe, expect, it } from "vitest";
import { createAdmissionCore } from "../../src/admission/core.js";
import type { Decision } from "../../src/admission/decision.js";
import { decisionResponse } from "../../src/admission/review.js";
import { ErrorCodes } from "../../src/errors.js";
import {
  NOW,
  alice,
  core,
  defaultPolicy,
  deployment,
  fixtureText,
  request,
  reviewOf,
} from "./helpers.js";

const policy = defaultPolicy();
const fixture = "08-update-deployment-kubectl-patch.json";

function body(mutate: (review: Record<string, unknown>) => void): Record<string, unknown> {
  const review = JSON.parse(fixtureText(fixture)) as Record<string, unknown>;
  mutate(review);
  return review;
}

function req(review: Record<string, unknown>): Record<string, unknown> {
  return review["request"] as Record<string, unknown>;
}

describe("parseReview", () => {
  it("accepts text, bytes and parsed JSON", () => {
    const text = fixtureText(fixture);
    const uid = reviewOf(fixture).request.uid;
    for (const input of [text, new TextEncoder().encode(text), JSON.parse(text) as unknown]) {
      const parsed = core.parseReview(input);
      expect(parsed).toMatchObject({
        ok: true,
        review: { request: { uid } },
      });
    }
  });

  it("reports a body that is not JSON, with no uid to answer", () => {
    const parsed = core.parseReview('{"apiVersion": "admission.k8s.io/v1", "kind": ');
    expect(parsed).toMatchObject({
      ok: false,
      error: { code: ErrorCodes.ADMISSION_REVIEW_NOT_JSON },
    });
    expect("uid" in parsed).toBe(false);
  });

  it("names the field that is wrong, and keeps the uid", () => {
    const uid = reviewOf(fixture).request.uid;
    const cases: [Record<string, unknown>, string][] = [
      [body((r) => delete req(r)["userInfo"]), "request.userInfo is required"],
      [
        body((r) => (req(r)["operation"] = "PATCH")),
        'request.operation "PATCH" must be one of CREATE, UPDATE, DELETE, CONNECT',
      ],
      [
        body((r) => ((req(r)["userInfo"] as Record<string, unknown>)["groups"] = "admins")),
        "request.userInfo.groups must be array",
      ],
      [
        body(
          (r) =>
            ((req(r)["object"] as Record<string, Record<string, Record<string, unknown>>>)[
              "metadata"
            ]!["annotations"]!["x"] = 1),
        ),
        "request.object.metadata.annotations.x must be string, not 1",
      ],
      [
        body((r) => (r["kind"] = "AdmissionRequest")),
        'kind "AdmissionRequest" must be "AdmissionReview"',
      ],
    ];
    for (const [input, problem] of cases) {
      const parsed = core.parseReview(input);
      expect(parsed).toMatchObject({
        ok: false,
        uid,
        error: { code: ErrorCodes.ADMISSION_REVIEW_INVALID },
      });
      if (!parsed.ok) expect(parsed.error.message).toContain(problem);
    }
  });

  it("says which version to configure for admission.k8s.io/v1beta1", () => {
    const v1beta1 = body((r) => (r["apiVersion"] = "admission.k8s.io/v1beta1"));
    const parsed = core.parseReview(v1beta1);
    expect(core.review(v1beta1, [policy], NOW)).toMatchObject({
      httpStatus: 200,
      body: { apiVersion: "admission.k8s.io/v1beta1", response: { allowed: false } },
    });
    expect(parsed).toMatchObject({
      ok: false,
      error: { code: ErrorCodes.ADMISSION_REVIEW_UNSUPPORTED_VERSION },
    });
  });
});

describe("review(): parse -> decide -> respond", () => {
  it("denies a malformed review that has a uid, with code 400", () => {
    const result = core.review(
      body((r) => delete req(r)["kind"]),
      [policy],
      NOW,
    );
    expect(result).toMatchObject({
      httpStatus: 200,
      body: {
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: {
          uid: reviewOf(fixture).request.uid,
          allowed: false,
          status: { code: 400, reason: "BadRequest" },
        },
      },
    });
  });

  it("answers HTTP 400 with the error code when there is no uid", () => {
    const result = core.review("not json", [policy], NOW);
    expect(result).toMatchObject({
      httpStatus: 400,
      body: { code: "GG_ADMISSION_REVIEW_NOT_JSON" },
    });
  });

  it("turns an internal error into a denial with code 500, or an allow when configured", () => {
    const broken = {
      locate: () => {
        throw new Error("inventory unavailable");
      },
    };
    const text = fixtureText(fixture);
    const denied = core.review(text, [policy], NOW, broken);
    expect(denied).toMatchObject({
      httpStatus: 200,
      body: { response: { allowed: false, status: { code: 500, reason: "InternalError" } } },
      error: { code: ErrorCodes.ADMISSION_INTERNAL },
    });
    if (denied.httpStatus === 200)
      expect(denied.body.response.status?.message).toContain("inventory unavailable");
    const lenient = createAdmissionCore({ onInternalError: "allow" }).review(
      text,
      [policy],
      NOW,
      broken,
    );
    expect(lenient).toMatchObject({ body: { response: { allowed: true } } });
  });
});

describe("decisionResponse", () => {
  const review = {
    apiVersion: "admission.k8s.io/v1" as const,
    kind: "AdmissionReview" as const,
    request: request({ actor: alice, object: deployment({}, { image: "x:2" }) }),
  };

  it("echoes the uid and puts the message in a 403 status on deny", () => {
    const decision = core.decide(review.request, [policy], NOW);
    const res = decisionResponse(review, decision).response;
    expect(res).toMatchObject({
      uid: review.request.uid,
      allowed: false,
      status: { code: 403, reason: "Forbidden", message: decision.message },
    });
    expect(res.auditAnnotations).toEqual({ decision: "OutOfBandChange", policy: "default" });
  });

  it("keeps warnings short and printable", () => {
    const decision: Decision = {
      ...core.decide(review.request, [], NOW),
      warnings: [`é ${"w".repeat(200)}`],
    };
    const res = decisionResponse(review, decision).response;
    expect(res.allowed).toBe(true);
    expect(res.status).toBeUndefined();
    expect(res.warnings?.[0]).toHaveLength(120);
    expect(res.warnings?.[0]).toMatch(/^\? w+\.\.\.$/);
  });
});
