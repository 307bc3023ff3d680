/**
 * What each of the chart's service accounts must and must not be allowed, from what its
 * component's code does (src/secrets, src/reconciler, src/auditor, src/admission, src/main.ts).
 * `ns` is the release namespace, `other` any namespace where users keep their objects; no
 * namespace means every namespace (and is how a cluster-scoped kind is asked).
 */
import type { Access } from "./cluster.js";

export interface Check extends Access {
  readonly allow: boolean;
  readonly why: string;
}

export interface Names {
  readonly ns: string;
  readonly other: string;
  readonly fullname: string;
}

/** "VERB RESOURCE[:SUBRESOURCE]", RESOURCE as kubectl auth can-i takes it (kind.group/name). */
function check(allow: boolean, spec: string, namespace: string | undefined, why: string): Check {
  const [verb, target] = spec.split(" ") as [string, string];
  const [resource, subresource] = target.split(":") as [string, string | undefined];
  return {
    allow,
    why,
    verb,
    resource,
    ...(namespace === undefined ? {} : { namespace }),
    ...(subresource === undefined ? {} : { subresource }),
  };
}

export const may = (spec: string, ns: string | undefined, why: string): Check =>
  check(true, spec, ns, why);
export const mayNot = (spec: string, ns: string | undefined, why: string): Check =>
  check(false, spec, ns, why);

const SS = "sealedsecrets.gitops-guard.io";
const GS = "gitsyncs.gitops-guard.io";
const GP = "guardpolicies.gitops-guard.io";
const LEASES = "leases.coordination.k8s.io";
const ADM = "admissionregistration.k8s.io";
const TOKEN_REVIEWS = "tokenreviews.authentication.k8s.io";
/** The path RBAC is asked about for GET /api/v1/journal (src/http/ops.ts PROTECTED_PATHS). */
const JOURNAL = "/gitops-guard/api/v1/journal";
const ACCESS_REVIEWS = "subjectaccessreviews.authorization.k8s.io";

/** Both pods serve the ops port, whose /metrics and journal ask the API server about callers
 * (src/http/delegated-auth.ts): the two reviews, and not the paths themselves. */
function opsPort(): Check[] {
  return [
    may(`create ${TOKEN_REVIEWS}`, undefined, "the ops port checks readers' tokens"),
    may(`create ${ACCESS_REVIEWS}`, undefined, "and asks RBAC whether they may read the path"),
    mayNot(`get ${JOURNAL}`, undefined, "serves the journal; reading it is people's"),
    mayNot("get /metrics", undefined, "serves /metrics; scraping is Prometheus's"),
  ];
}

function secrets({ ns, other }: Names): Check[] {
  return [
    may("create secrets", other, "materialises a Secret in each SealedSecret's namespace"),
    may("patch secrets", other, "server-side apply, and a merge patch of that Secret"),
    may("watch secrets", undefined, "its Secret informer covers every namespace"),
    may("create secrets", ns, "its key Secrets, in the release namespace"),
    may(`list ${SS}`, undefined, "its SealedSecret informer"),
    may(`patch ${SS}:status`, other, "the Synced condition"),
    may("create events", other, "Unsealed and failure Events"),
    mayNot("delete secrets", other, "never deletes a Secret (owner references do)"),
    mayNot("update secrets", other, "never replaces a Secret whole"),
    mayNot(`patch ${SS}`, other, "never writes a SealedSecret's spec (Git does)"),
    mayNot("list sealedsecrets.bitnami.com", undefined, "Bitnami's kind only with the opt-in"),
    mayNot("create deployments.apps", other, "no workloads"),
    mayNot(`list ${GS}`, undefined, "GitSyncs are the reconciler's"),
    mayNot(`create ${LEASES}`, ns, "the Lease is the controller pod's"),
    mayNot("impersonate serviceaccounts", ns, "no impersonation"),
    mayNot("create clusterrolebindings.rbac.authorization.k8s.io", undefined, "no RBAC writes"),
    mayNot(`create ${TOKEN_REVIEWS}`, undefined, "serves no ops port of its own"),
    mayNot(`get ${JOURNAL}`, undefined, "not a journal reader"),
  ];
}

function reconciler({ other }: Names): Check[] {
  return [
    may("create deployments.apps", other, "applies what Git holds"),
    may("delete deployments.apps", other, "prunes what left Git"),
    may("patch customresourcedefinitions.apiextensions.k8s.io", undefined, "CRDs first"),
    may(`patch ${GS}:status`, other, "GitSync conditions"),
    may(`patch ${GS}`, other, "the push webhook's requested-at annotation"),
    may("get secrets", other, "Git credentials and SOPS keys"),
    may("get serviceaccounts", other, "a deleted GitSync: does its account still exist"),
    may(`watch ${GP}`, undefined, "the auditor's policies"),
    may("list events.events.k8s.io", undefined, "the auditor reads the webhook's Events"),
  ];
}

function webhook({ ns, other }: Names): Check[] {
  return [
    may(`watch ${GP}`, undefined, "policy informer"),
    may(`list ${GS}`, undefined, "inventory informer (messages)"),
    may(`patch ${GP}:status`, undefined, "policy status"),
    may("list namespaces", undefined, "namespaceSelector"),
    may("create events.events.k8s.io", other, "break-glass and Audit-mode Events"),
    may(`create validatingadmissionpolicies.${ADM}`, undefined, "the compiled backstop"),
    may(`delete validatingadmissionpolicybindings.${ADM}`, undefined, "a stale backstop"),
    may(`patch validatingwebhookconfigurations.${ADM}`, undefined, "the caBundle"),
    may("update secrets", ns, "its CA Secret"),
    mayNot("get secrets", other, "no Secret outside its namespace"),
    mayNot("list secrets", ns, "reads its CA Secret by name only"),
    mayNot("create deployments.apps", other, "no workloads"),
    mayNot(`delete validatingwebhookconfigurations.${ADM}`, undefined, "recovery is people's"),
    mayNot(`create ${LEASES}`, ns, "no Lease: it is not leader-elected"),
    mayNot("impersonate serviceaccounts", ns, "no impersonation"),
    mayNot(`patch ${SS}:status`, other, "SealedSecrets are the secrets component's"),
    ...opsPort(),
  ];
}

function controller({ ns, other, fullname }: Names): Check[] {
  return [
    may(`create ${LEASES}`, ns, "takes the Lease"),
    may(`update ${LEASES}/${fullname}-controller`, ns, "renews the Lease"),
    may(`impersonate serviceaccounts/${fullname}-secrets`, ns, "acts as the secrets component"),
    may(`impersonate serviceaccounts/${fullname}-reconciler`, ns, "acts as reconciler and auditor"),
    // Tenant GitSyncs: any service account (reconciler.tenantNamespaces narrows it), which
    // includes the webhook's, whose rights are a subset of the reconciler's.
    may(`impersonate serviceaccounts/${fullname}-webhook`, ns, "tenant accounts: any account"),
    may("impersonate serviceaccounts/default", other, "acts as a tenant GitSync's account"),
    mayNot("impersonate users", undefined, "not as a user"),
    mayNot("impersonate groups", undefined, "not as a group (system:masters)"),
    mayNot(`update ${LEASES}/kube-scheduler`, ns, "no other Lease"),
    mayNot(`create ${LEASES}`, other, "no Lease elsewhere"),
    mayNot("get secrets", ns, "nothing as itself: reads go through a component"),
    mayNot("create deployments.apps", other, "no workloads as itself"),
    ...opsPort(),
  ];
}

/**
 * The readers a release binds with metrics.readers and journal.readers (readerValues): each
 * gets its path and nothing else. Keyed like accessTable.
 */
export function readerTable({ ns, other }: Names): Record<string, Check[]> {
  return {
    [`${ns}/journal-reader`]: [
      may(`get ${JOURNAL}`, undefined, "journal.readers: the journal"),
      may(`get ${JOURNAL}/records`, undefined, "and what is under it"),
      mayNot("get /metrics", undefined, "a journal reader does not scrape"),
      mayNot(`get ${JOURNAL}x`, undefined, "the role names the path, not a prefix"),
      mayNot(`create ${TOKEN_REVIEWS}`, undefined, "reading is all"),
      mayNot("list secrets", ns, "reading is all"),
    ],
    [`${other}/prometheus`]: [
      may("get /metrics", undefined, "metrics.readers: the scrape"),
      mayNot(`get ${JOURNAL}`, undefined, "a scraper does not read the journal"),
      // Why the journal is not asked about as its served path: system:discovery's /api/*.
      may("get /api/v1/journal", undefined, "every authenticated user may get /api/*"),
      mayNot("get /status", undefined, "the role grants /metrics only"),
    ],
  };
}

/** Values that bind readerTable's readers: one in the release namespace, one elsewhere. */
export function readerValues({ other }: Names): Record<string, unknown> {
  return {
    journal: { readers: [{ kind: "ServiceAccount", name: "journal-reader" }] },
    metrics: { readers: [{ kind: "ServiceAccount", name: "prometheus", namespace: other }] },
  };
}

/** Per service account (NAMESPACE/NAME), its checks. */
export function accessTable(names: Names): Record<string, Check[]> {
  const sa = (component: string): string => `${names.ns}/${names.fullname}-${component}`;
  return {
    [sa("secrets")]: secrets(names),
    [sa("reconciler")]: reconciler(names),
    [sa("webhook")]: webhook(names),
    [sa("controller")]: controller(names),
  };
}
