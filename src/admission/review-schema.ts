/**
 * The JSON Schema an AdmissionReview must pass before decide() sees it: every field decide()
 * reads, with its type. Objects are otherwise open: a Deployment's spec is not our business.
 */
const str = { type: "string" };
const strMap = { type: "object", additionalProperties: { type: "string" } };
const gvk = {
  type: "object",
  required: ["group", "version", "kind"],
  properties: { group: str, version: str, kind: { type: "string", minLength: 1 } },
};
const gvr = {
  type: "object",
  required: ["group", "version", "resource"],
  properties: { group: str, version: str, resource: { type: "string", minLength: 1 } },
};

const metadata = {
  type: "object",
  properties: {
    name: str,
    generateName: str,
    namespace: str,
    labels: strMap,
    annotations: strMap,
    finalizers: { type: "array", items: str },
    deletionTimestamp: { type: ["string", "null"] },
  },
};

const object = {
  type: ["object", "null"],
  properties: { apiVersion: str, kind: str, metadata },
};

export const ADMISSION_REVIEW_SCHEMA = {
  type: "object",
  required: ["apiVersion", "kind", "request"],
  properties: {
    apiVersion: { type: "string", const: "admission.k8s.io/v1" },
    kind: { type: "string", const: "AdmissionReview" },
    request: {
      type: "object",
      required: ["uid", "kind", "resource", "operation", "userInfo"],
      properties: {
        uid: { type: "string", minLength: 1, maxLength: 256 },
        kind: gvk,
        resource: gvr,
        subResource: str,
        requestKind: gvk,
        requestResource: gvr,
        requestSubResource: str,
        name: str,
        namespace: str,
        operation: { type: "string", enum: ["CREATE", "UPDATE", "DELETE", "CONNECT"] },
        userInfo: {
          type: "object",
          required: ["username"],
          properties: {
            username: str,
            uid: str,
            groups: { type: "array", items: str },
            extra: { type: "object", additionalProperties: { type: "array", items: str } },
          },
        },
        object,
        oldObject: object,
        dryRun: { type: "boolean" },
        options: { type: ["object", "null"], properties: { fieldManager: str } },
      },
    },
  },
} as const;
