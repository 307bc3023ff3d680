import { describe, expect, it } from "vitest";
import { statusError } from "../../src/kube/rest.js";
import { refusedForGood } from "../../src/secrets/reconcile.js";

const SECRET_PATH = "/api/v1/namespaces/shop/secrets/immutable-db";
const apply = { method: "PATCH", path: SECRET_PATH } as const;

/** The error the REST client throws for this answer of the API server. */
function answer(status: number, body: object | string): unknown {
  return statusError(apply, status, typeof body === "string" ? body : JSON.stringify(body));
}

// What kube-apiserver answers for a change to the data of a Secret with `immutable: true`
// (ValidateSecretUpdate: field.Forbidden on "data").
const immutableData = {
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  message:
    'Secret "immutable-db" is invalid: data: Forbidden: field is immutable when `immutable` is set',
  reason: "Invalid",
  details: {
    name: "immutable-db",
    kind: "Secret",
    causes: [
      {
        reason: "FieldValueForbidden",
        message: "Forbidden: field is immutable when `immutable` is set",
        field: "data",
      },
    ],
  },
  code: 422,
};

describe("which failed Secret writes the controller stops retrying", () => {
  it("retries a 503 for a Secret whose name says immutable", () => {
    const err = answer(503, {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      message: "the server is currently unable to handle the request",
      reason: "ServiceUnavailable",
      code: 503,
    });
    // The message names the path, so it says "immutable" whatever the failure was.
    expect(String(err)).toContain("immutable");
    expect(refusedForGood(err)).toBe(false);
  });

  it("retries a proxy's plain-text 503 and a timeout on that path", () => {
    expect(refusedForGood(answer(503, "upstream connect error: immutable-db"))).toBe(false);
    expect(refusedForGood(answer(504, { reason: "Timeout", code: 504 }))).toBe(false);
  });

  it("gives up on a 422 Invalid whose causes name a field an update cannot change", () => {
    expect(refusedForGood(answer(422, immutableData))).toBe(true);
    // Unsetting `immutable` is refused the same way, and a Secret's type never changes.
    const fields: [string, string][] = [
      ["immutable", "FieldValueForbidden"],
      ["type", "FieldValueInvalid"],
    ];
    for (const [field, reason] of fields) {
      const refused = structuredClone(immutableData);
      refused.details.causes = [{ reason, message: "field is immutable", field }];
      expect(refusedForGood(answer(422, refused))).toBe(true);
    }
  });

  it("retries a 422 about another field, and a 409, whatever their text says", () => {
    const label = structuredClone(immutableData);
    label.details.causes = [
      {
        reason: "FieldValueInvalid",
        message: 'Invalid value: "immutable!": a valid label must be ...',
        field: "metadata.labels",
      },
    ];
    expect(refusedForGood(answer(422, label))).toBe(false);
    const conflict = { ...immutableData, reason: "Conflict", code: 409 };
    expect(refusedForGood(answer(409, conflict))).toBe(false);
  });
});
