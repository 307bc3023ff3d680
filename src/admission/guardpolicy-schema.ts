/**
 * The JSON Schema of a GuardPolicy: the one source of truth for ajv (policy.ts). The CRD in
 * crds/guardpolicies.gitops-guard.io.yaml states the same fields for the API server;
 * test/admission/policy-schema.test.ts fails when the two disagree.
 *
 * `description` on a patterned field completes the error message "<field> <value> must be ...".
 * `additionalProperties: false` is ajv-only (a CRD prunes unknown fields instead): a typo in a
 * policy file is an error rather than a silently ignored setting.
 */
import { BUNDLED_NAMESPACE, BUNDLED_SERVICE_ACCOUNTS } from "../presets/reconcilers.js";

const DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS_SUBDOMAIN = "[a-z0-9]([-.a-z0-9]*[a-z0-9])?";

export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
export const SERVICE_ACCOUNT_PATTERN = `^${DNS_LABEL}/${DNS_SUBDOMAIN}$`;
/** A non-empty RFC 6901 pointer: "/spec/replicas", "/metadata/labels/app.kubernetes.io~1name". */
export const JSON_POINTER_PATTERN = "^(/([^~]|~[01])*)+$";
export const KIND_PATTERN = "^(\\*|[A-Za-z][A-Za-z0-9]*)$";
export const API_GROUP_PATTERN = "^(\\*|[a-z0-9]([-.a-z0-9]*[a-z0-9])?)?$";

const stringList = { type: "array", items: { type: "string", minLength: 1 }, default: [] };

function identityProperties(defaultServiceAccounts: readonly string[]): Record<string, unknown> {
  return {
    users: stringList,
    groups: stringList,
    serviceAccounts: {
      type: "array",
      default: [...defaultServiceAccounts],
      items: {
        type: "string",
        pattern: SERVICE_ACCOUNT_PATTERN,
        description: "NAMESPACE/NAME of a service account",
      },
    },
  };
}

function identities(defaultServiceAccounts: readonly string[]): Record<string, unknown> {
  return {
    type: "object",
    additionalProperties: false,
    default: {},
    properties: identityProperties(defaultServiceAccounts),
  };
}

const apiGroups = {
  type: "array",
  default: ["*"],
  items: {
    type: "string",
    pattern: API_GROUP_PATTERN,
    description: 'an API group such as "apps", "" for the core group, or "*"',
  },
};

const kinds = {
  type: "array",
  minItems: 1,
  items: {
    type: "string",
    pattern: KIND_PATTERN,
    description: 'a Kind such as "Deployment" or "*"',
  },
};

const labelSelector = {
  type: "object",
  additionalProperties: false,
  properties: {
    matchLabels: { type: "object", additionalProperties: { type: "string" } },
    matchExpressions: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["key", "operator"],
        properties: {
          key: { type: "string", minLength: 1 },
          operator: { type: "string", enum: ["In", "NotIn", "Exists", "DoesNotExist"] },
          values: { type: "array", items: { type: "string" } },
        },
      },
    },
  },
};

const match = {
  type: "object",
  additionalProperties: false,
  default: {},
  properties: {
    resources: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["kinds"],
        properties: {
          apiGroups,
          kinds,
          subresources: {
            type: "array",
            default: [],
            items: {
              type: "string",
              pattern: "^[a-z][a-z0-9]*$",
              description: 'a subresource name such as "scale" or "status"',
            },
          },
        },
      },
    },
    namespaceSelector: labelSelector,
  },
};

const reconcilers = {
  type: "object",
  additionalProperties: false,
  default: {},
  properties: {
    presets: {
      type: "array",
      default: ["gitops-guard"],
      items: { type: "string", enum: ["gitops-guard", "argocd", "flux"] },
    },
    ...identityProperties([]),
  },
};

const breakGlass = {
  type: "object",
  additionalProperties: false,
  default: {},
  properties: {
    groups: stringList,
    maxDuration: {
      type: "string",
      default: "4h",
      pattern: DURATION_PATTERN,
      description: "a duration like 30m or 4h",
    },
    reasonPattern: { type: "string", minLength: 1, maxLength: 1024, default: "\\S" },
  },
};

const ignoreFields = {
  type: "array",
  default: [],
  items: {
    type: "object",
    additionalProperties: false,
    required: ["kinds", "jsonPointers"],
    properties: {
      apiGroups,
      kinds,
      jsonPointers: {
        type: "array",
        minItems: 1,
        items: {
          type: "string",
          pattern: JSON_POINTER_PATTERN,
          description: 'a JSON pointer such as "/spec/replicas"',
        },
      },
    },
  },
};

const secrets = {
  type: "object",
  additionalProperties: false,
  default: {},
  properties: {
    denyPlaintext: { type: "boolean", default: false },
    writers: identities([`${BUNDLED_NAMESPACE}/${BUNDLED_SERVICE_ACCOUNTS.secrets}`]),
  },
};

const alerts = {
  type: "array",
  default: [],
  items: {
    type: "object",
    additionalProperties: false,
    required: ["type"],
    properties: {
      type: { type: "string", enum: ["slack", "alertmanager", "webhook"] },
      url: { type: "string", pattern: "^https?://", description: "an http(s) URL" },
      secretRef: {
        type: "object",
        additionalProperties: false,
        required: ["name"],
        properties: { name: { type: "string", minLength: 1 }, key: { type: "string" } },
      },
    },
  },
};

/** The schema of GuardPolicy.spec: what the CRD's openAPIV3Schema.properties.spec must match. */
export const GUARD_POLICY_SPEC_SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    mode: { type: "string", enum: ["Enforce", "Audit"], default: "Enforce" },
    match,
    reconcilers,
    exemptions: identities([]),
    breakGlass,
    ignoreFields,
    secrets,
    alerts,
  },
} as const;

/** A whole GuardPolicy document (a manifest file or an object read from the API server). */
export const GUARD_POLICY_SCHEMA = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  properties: {
    apiVersion: { type: "string", const: "gitops-guard.io/v1alpha1" },
    kind: { type: "string", const: "GuardPolicy" },
    metadata: {
      type: "object",
      required: ["name"],
      properties: {
        name: { type: "string", pattern: `^${DNS_SUBDOMAIN}$`, description: "a DNS subdomain" },
        generation: { type: "integer" },
      },
    },
    spec: GUARD_POLICY_SPEC_SCHEMA,
    status: { type: "object" },
  },
} as const;
