/**
 * What must always pass, or the webhook breaks the cluster (reference/admission-webhooks.md
 * section b). These are added to every GuardPolicy and cannot be switched off by one.
 * system:masters is deliberately NOT here: cluster admins are people, and people go through Git.
 */

/** Control-plane identities: scheduler, controller-manager, API server loopback client. */
export const SYSTEM_USERS: readonly string[] = [
  "system:kube-scheduler",
  "system:kube-controller-manager",
  "system:apiserver",
];

/**
 * Kubelets, and every kube-system service account: garbage collector, namespace controller,
 * workload controllers, HPA, PVC/PV protection, endpoint and quota controllers.
 */
export const SYSTEM_GROUPS: readonly string[] = [
  "system:nodes",
  "system:serviceaccounts:kube-system",
];

/** Namespaces a GuardPolicy never reaches, besides the webhook's own. */
export const EXCLUDED_NAMESPACES: readonly string[] = [
  "kube-system",
  "kube-public",
  "kube-node-lease",
];

/**
 * Kinds that are machinery rather than configuration: denying them stalls nodes, leader
 * election or authentication. Keyed "group/Kind" ("" is the core group).
 */
export const SYSTEM_KINDS: ReadonlySet<string> = new Set([
  "coordination.k8s.io/Lease",
  "/Event",
  "events.k8s.io/Event",
  "/Node",
  "/Binding",
  "authentication.k8s.io/TokenReview",
  "authentication.k8s.io/SelfSubjectReview",
  "authorization.k8s.io/SubjectAccessReview",
  "authorization.k8s.io/SelfSubjectAccessReview",
  "authorization.k8s.io/SelfSubjectRulesReview",
  "authorization.k8s.io/LocalSubjectAccessReview",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
]);

export function isSystemKind(group: string, kind: string): boolean {
  return SYSTEM_KINDS.has(`${group}/${kind}`);
}
