import { describe, expect, it } from "vitest";
import { ErrorCodes, GuardError } from "../../src/errors.js";
import { statusError } from "../../src/kube/rest.js";
import {
  apiRefusal,
  isInvalidField,
  isNamespaceTerminating,
} from "../../src/kube/status-errors.js";

const create = { method: "PATCH", path: "/api/v1/namespaces/shop/configmaps/web" } as const;

// What the NamespaceLifecycle admission plugin answers for a create in a namespace being deleted.
const terminating = {
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  message:
    'configmaps "web" is forbidden: unable to create new content in namespace shop because it is being terminated',
  reason: "Forbidden",
  details: {
    name: "web",
    kind: "configmaps",
    causes: [
      {
        reason: "NamespaceTerminating",
        message: "namespace shop is being terminated",
        field: "metadata.namespace",
      },
    ],
  },
  code: 403,
};

describe("API refusals, by status, reason and causes", () => {
  it("reads what statusError recorded, and nothing from other errors", () => {
    expect(apiRefusal(statusError(create, 403, JSON.stringify(terminating)))).toEqual({
      status: 403,
      reason: "Forbidden",
      causes: terminating.details.causes,
    });
    expect(apiRefusal(statusError(create, 502, "bad gateway"))).toEqual({
      status: 502,
      reason: "",
      causes: [],
    });
    expect(apiRefusal(new GuardError(ErrorCodes.KUBE_REQUEST_FAILED, "ECONNRESET"))).toBe(
      undefined,
    );
    expect(apiRefusal(new Error("403 Invalid"))).toBe(undefined);
  });

  it("tells a terminating namespace by its cause, not by the words 'being terminated'", () => {
    expect(isNamespaceTerminating(statusError(create, 403, JSON.stringify(terminating)))).toBe(
      true,
    );
    // A webhook's denial may say anything; it has no NamespaceTerminating cause.
    const webhook = {
      ...terminating,
      message: 'admission webhook "x" denied the request: shop is being terminated',
      details: { name: "web", kind: "configmaps" },
    };
    expect(isNamespaceTerminating(statusError(create, 403, JSON.stringify(webhook)))).toBe(false);
    expect(isNamespaceTerminating(statusError(create, 503, "shop is being terminated"))).toBe(
      false,
    );
  });

  it("matches a 422 Invalid by the exact field of a cause", () => {
    const invalid = {
      kind: "Status",
      reason: "Invalid",
      code: 422,
      details: { causes: [{ reason: "FieldValueForbidden", field: "data" }] },
    };
    const err = statusError(create, 422, JSON.stringify(invalid));
    expect(isInvalidField(err, ["data"])).toBe(true);
    expect(isInvalidField(err, ["data.x", "spec"])).toBe(false);
    expect(isInvalidField(statusError(create, 400, JSON.stringify(invalid)), ["data"])).toBe(false);
  });
});
