/**
 * The ValidatingWebhookConfiguration, as data. webhooks/validating-webhook.yaml is the same
 * object for a cluster (a test compares the two); out of a cluster the component applies it
 * itself with a `url` clientConfig and its own CA.
 *
 * Lockout safety (reference/admission-webhooks.md b): failurePolicy Ignore by default (the
 * compiled ValidatingAdmissionPolicy is the backstop while the webhook is down), a short
 * timeout, kube-system, kube-public, kube-node-lease and gitops-guard's own namespace excluded,
 * and matchConditions that keep machinery (nodes, kube-system controllers, leases, events) from
 * ever calling it.
 */
import type { KubeObject } from "../kube/objects.js";
import { celList } from "./vap/cel.js";
import { EXCLUDED_NAMESPACES, SYSTEM_GROUPS, SYSTEM_USERS } from "./system.js";

export const WEBHOOK_CONFIGURATION_NAME = "gitops-guard";
export const WEBHOOK_PATH = "/validate";
export const DEFAULT_TIMEOUT_SECONDS = 5;
const NAME_LABEL = "kubernetes.io/metadata.name";

export type ClientConfig =
  | { readonly url: string }
  | {
      readonly service: {
        readonly namespace: string;
        readonly name: string;
        readonly path: string;
        readonly port: number;
      };
    };

export interface WebhookConfigOptions {
  readonly name?: string;
  /** gitops-guard's own namespace: excluded. */
  readonly ownNamespace: string;
  readonly clientConfig: ClientConfig;
  /** Base64 is added here; PEM in. Absent: left for an injector (cert-manager's cainjector). */
  readonly caBundle?: string;
  readonly failurePolicy?: "Ignore" | "Fail";
  readonly timeoutSeconds?: number;
  /** Only these namespaces (tests share one control plane): namespaced kinds and Namespaces. */
  readonly namespaces?: readonly string[];
}

const OPERATIONS = ["CREATE", "UPDATE", "DELETE"];

function rules(options: WebhookConfigOptions): object[] {
  const all = { apiGroups: ["*"], apiVersions: ["*"], operations: OPERATIONS };
  // "*" is every resource but no subresource; scale is judged too (a policy may guard it).
  if (options.namespaces === undefined)
    return [{ ...all, resources: ["*", "*/scale"], scope: "*" }];
  return [
    { ...all, resources: ["*", "*/scale"], scope: "Namespaced" },
    { ...all, apiGroups: [""], resources: ["namespaces"], scope: "Cluster" },
  ];
}

function namespaceSelector(options: WebhookConfigOptions): object {
  if (options.namespaces !== undefined) {
    return {
      matchExpressions: [{ key: NAME_LABEL, operator: "In", values: [...options.namespaces] }],
    };
  }
  const excluded = [...EXCLUDED_NAMESPACES, options.ownNamespace];
  return { matchExpressions: [{ key: NAME_LABEL, operator: "NotIn", values: excluded }] };
}

/** CEL evaluated by the API server before calling: false skips the call (cheap, no network). */
export const MATCH_CONDITIONS = [
  {
    name: "not-control-plane",
    expression:
      `!(request.userInfo.username in ${celList(SYSTEM_USERS)}) && ` +
      `!(has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in ${celList(SYSTEM_GROUPS)}))`,
  },
  {
    name: "not-machinery",
    expression:
      '!(request.resource.group == "coordination.k8s.io" && request.resource.resource == "leases") && ' +
      '!(request.resource.resource == "events" && (request.resource.group == "" || request.resource.group == "events.k8s.io"))',
  },
] as const;

export function webhookConfiguration(options: WebhookConfigOptions): KubeObject {
  const name = options.name ?? WEBHOOK_CONFIGURATION_NAME;
  const caBundle =
    options.caBundle === undefined
      ? {}
      : { caBundle: Buffer.from(options.caBundle).toString("base64") };
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name, labels: { "app.kubernetes.io/managed-by": "gitops-guard" } },
    webhooks: [
      {
        name: "validate.gitops-guard.io",
        clientConfig: { ...options.clientConfig, ...caBundle },
        rules: rules(options),
        namespaceSelector: namespaceSelector(options),
        matchConditions: MATCH_CONDITIONS,
        failurePolicy: options.failurePolicy ?? "Ignore",
        // It writes Events (attribution facts, denials) as a side effect; never on a dry run.
        sideEffects: "NoneOnDryRun",
        admissionReviewVersions: ["v1"],
        timeoutSeconds: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
        matchPolicy: "Equivalent",
      },
    ],
  };
}

/** The part that carries the CA, for patching a configuration installed by the chart. */
export function caBundlePatch(name: string, caBundle: string): KubeObject {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name },
    webhooks: [
      {
        name: "validate.gitops-guard.io",
        clientConfig: { caBundle: Buffer.from(caBundle).toString("base64") },
      },
    ],
  };
}
