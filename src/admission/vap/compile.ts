/**
 * A GuardPolicy compiled into a ValidatingAdmissionPolicy and its binding
 * (admissionregistration.k8s.io/v1): the API server itself keeps enforcing the identity rule and
 * the break-glass checks CEL can express while the webhook is down (failurePolicy: Ignore on
 * the webhook opens no door). Pure: the same policy and time give the same objects, so every
 * replica applies identical content and server-side apply makes the repeats no-ops.
 */
import type { KubeObject, ObjectMeta } from "../../kube/objects.js";
import { pluralOf } from "../match.js";
import type { GitSyncWriter } from "../gitsync-writers.js";
import type { GuardPolicy, LabelSelector } from "../policy-types.js";
import { EXCLUDED_NAMESPACES, SYSTEM_KINDS } from "../system.js";
import { GITSYNC_NAME_LABEL, messageExpression, staticMessage } from "./message.js";
import { ADMIT_EXPRESSION, BAKE_INTERVAL_MS, matchConditions, variables } from "./rules.js";

export const VAP_API_VERSION = "admissionregistration.k8s.io/v1";
export const BACKSTOP_LABEL = "gitops-guard.io/backstop";
export const POLICY_ANNOTATION = "gitops-guard.io/guardpolicy";
export const BAKED_AT_ANNOTATION = "gitops-guard.io/baked-at";
const NAME_LABEL = "kubernetes.io/metadata.name";
const OPERATIONS = ["CREATE", "UPDATE", "DELETE"];

export interface BackstopOptions {
  /** Now, ms since the epoch; rounded down to BAKE_INTERVAL_MS so replicas agree. */
  readonly now: number;
  /** gitops-guard's own namespace: never guarded. */
  readonly ownNamespace: string;
  /** The GuardPolicy's uid: the compiled objects are owned by it (garbage-collected with it). */
  readonly ownerUid?: string;
  /** Narrows the binding to these namespaces (tests share one control plane). */
  readonly namespaces?: readonly string[];
  /** GitSync identities, each trusted in its own namespace only (the webhook's inventory bound is not expressible in CEL). */
  readonly gitSyncWriters?: readonly GitSyncWriter[];
}

export interface CompiledBackstop {
  readonly policy: KubeObject;
  readonly binding: KubeObject;
}

export function backstopName(policyName: string): string {
  return `gitops-guard-${policyName}`;
}

export function bakedTime(now: number): number {
  return Math.floor(now / BAKE_INTERVAL_MS) * BAKE_INTERVAL_MS;
}

function resourceRules(policy: GuardPolicy): object[] {
  const rules = policy.spec.match.resources;
  if (rules === undefined) {
    return [{ apiGroups: ["*"], apiVersions: ["*"], operations: OPERATIONS, resources: ["*"] }];
  }
  return rules.map((rule) => {
    const main = rule.kinds.includes("*") ? ["*"] : rule.kinds.map(pluralOf);
    const subs = rule.subresources.flatMap((sub) => main.map((r) => `${r}/${sub}`));
    return {
      apiGroups: rule.apiGroups.includes("*") ? ["*"] : [...rule.apiGroups],
      apiVersions: ["*"],
      operations: OPERATIONS,
      resources: [...main, ...subs],
      scope: "*",
    };
  });
}

/** The kinds decide() never judges (system.ts), whatever a wildcard rule says. */
function excludedRules(): object[] {
  const byGroup = new Map<string, string[]>();
  for (const key of SYSTEM_KINDS) {
    const slash = key.indexOf("/");
    const group = key.slice(0, slash);
    byGroup.set(group, [...(byGroup.get(group) ?? []), pluralOf(key.slice(slash + 1))]);
  }
  return [...byGroup.entries()].map(([group, resources]) => ({
    apiGroups: [group],
    apiVersions: ["*"],
    operations: ["*"],
    resources,
    scope: "*",
  }));
}

function namespaceSelector(policy: GuardPolicy, ownNamespace: string): LabelSelector {
  const selector = policy.spec.match.namespaceSelector ?? {};
  const excluded = {
    key: NAME_LABEL,
    operator: "NotIn" as const,
    values: [...EXCLUDED_NAMESPACES, ownNamespace],
  };
  return {
    ...(selector.matchLabels === undefined ? {} : { matchLabels: { ...selector.matchLabels } }),
    matchExpressions: [...(selector.matchExpressions ?? []), excluded],
  };
}

function matchConstraints(policy: GuardPolicy, ownNamespace: string): object {
  // Guarding by inventory: the objects the bundled reconciler applied carry its owner label.
  const byInventory = policy.spec.match.resources === undefined;
  return {
    resourceRules: resourceRules(policy),
    excludeResourceRules: excludedRules(),
    namespaceSelector: namespaceSelector(policy, ownNamespace),
    ...(byInventory
      ? { objectSelector: { matchExpressions: [{ key: GITSYNC_NAME_LABEL, operator: "Exists" }] } }
      : {}),
    matchPolicy: "Equivalent",
  };
}

function metadata(
  policy: GuardPolicy,
  options: BackstopOptions,
  extra: Readonly<Record<string, string>> = {},
): ObjectMeta {
  const owner =
    options.ownerUid === undefined
      ? {}
      : {
          ownerReferences: [
            {
              apiVersion: "gitops-guard.io/v1alpha1",
              kind: "GuardPolicy",
              name: policy.name,
              uid: options.ownerUid,
            },
          ],
        };
  return {
    name: backstopName(policy.name),
    labels: { "app.kubernetes.io/managed-by": "gitops-guard", [BACKSTOP_LABEL]: "true" },
    annotations: { [POLICY_ANNOTATION]: policy.name, ...extra },
    ...owner,
  };
}

function bindingMatch(options: BackstopOptions): object {
  if (options.namespaces === undefined) return {};
  const values = [...options.namespaces];
  return {
    matchResources: {
      namespaceSelector: { matchExpressions: [{ key: NAME_LABEL, operator: "In", values }] },
    },
  };
}

/**
 * Enforce denies and also audits: Audit puts the denial in the API server's audit event (the
 * validation_failure annotation), the only trace of it the auditor can journal, since the
 * webhook is never called for a request a policy denied. (Deny and Warn may not be combined.)
 * Audit mode denies nothing: the API server only records what Enforce would deny.
 */
function validationActions(policy: GuardPolicy): string[] {
  return policy.spec.mode === "Enforce" ? ["Deny", "Audit"] : ["Audit"];
}

export function compileBackstop(policy: GuardPolicy, options: BackstopOptions): CompiledBackstop {
  const bakedAt = bakedTime(options.now);
  const baked = { [BAKED_AT_ANNOTATION]: new Date(bakedAt).toISOString() };
  const compiled: KubeObject = {
    apiVersion: VAP_API_VERSION,
    kind: "ValidatingAdmissionPolicy",
    metadata: metadata(policy, options, baked),
    spec: {
      failurePolicy: "Fail",
      matchConstraints: matchConstraints(policy, options.ownNamespace),
      matchConditions: matchConditions(policy, options.gitSyncWriters ?? []),
      variables: variables(policy, bakedAt),
      validations: [
        {
          expression: ADMIT_EXPRESSION,
          messageExpression: messageExpression(policy),
          message: staticMessage(policy),
          reason: "Forbidden",
        },
      ],
    },
  };
  const binding: KubeObject = {
    apiVersion: VAP_API_VERSION,
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: metadata(policy, options),
    spec: {
      policyName: backstopName(policy.name),
      validationActions: validationActions(policy),
      ...bindingMatch(options),
    },
  };
  return { policy: compiled, binding };
}
