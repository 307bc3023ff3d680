import {
  RECONCILER_PRESETS,
  type PresetName,
  type ReconcilerPreset,
} from "../presets/reconcilers.js";
import {
  gitSyncAccount,
  serviceAccountNameOf,
  type GitSyncIdentitySettings,
} from "../presets/gitsync-identity.js";
import { groupOf, type KubeObject } from "../kube/objects.js";
import { compact } from "./compact.js";
import type { ReconcilerIdentities } from "./attribution/attribute.js";
import {
  NAMESPACE_NAME_LABEL,
  parseSelector,
  selectorMatches,
  type LabelSelector,
} from "./selector.js";

/** A guarded or inventoried kind, by group (what policies name) or apiVersion (inventories). */
export interface KindRef {
  readonly group: string;
  readonly kind: string;
  /** Known for inventory entries; resolved through discovery for policy kinds. */
  readonly apiVersion?: string;
}

/** Where an inventoried object comes from in Git. */
export interface GitOrigin {
  readonly gitSync: { readonly namespace: string; readonly name: string };
  readonly revision?: string;
  /** The GitSync's spec.path (and the entry's own path when the inventory records one). */
  readonly path?: string;
}

export interface AlertSinkSpec {
  readonly type: "slack" | "alertmanager" | "webhook";
  readonly url?: string;
  readonly secretRef?: { readonly name: string; readonly key?: string };
  /** "policy#index", a loggable name for the sink. */
  readonly id: string;
}

/** What one GuardPolicy guards: its kinds, in the namespaces its selector picks. */
export interface PolicyGuard {
  /** "group/kind" */
  readonly kinds: ReadonlySet<string>;
  /** spec.match.namespaceSelector; absent: every namespace (but the excluded ones). */
  readonly namespaceSelector?: LabelSelector;
}

/** Everything the auditor derives from GuardPolicies and GitSyncs. */
export interface Scope {
  readonly kinds: readonly KindRef[];
  /** Kinds some policy guards in some namespaces, "group/kind" (what guards narrows down). */
  readonly guardedKinds: ReadonlySet<string>;
  /** One entry per policy that names kinds. */
  readonly guards: readonly PolicyGuard[];
  /** objectId -> Git origin, for every inventoried object. */
  readonly inventory: ReadonlyMap<string, GitOrigin>;
  readonly ignore: ReadonlyMap<string, readonly string[]>;
  readonly reconcilers: ReconcilerIdentities;
  readonly alerts: readonly AlertSinkSpec[];
}

export function kindId(group: string, kind: string): string {
  return `${group}/${kind}`;
}

export function objectId(
  group: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): string {
  return `${group}/${kind}/${namespace ?? ""}/${name}`;
}

type Json = Record<string, unknown>;

function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
function rec(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Json)
    : {};
}
function strs(value: unknown): string[] {
  return arr(value).filter((v): v is string => typeof v === "string");
}

/** "apiGroups x kinds" of a policy rule list (match.resources or ignoreFields). */
function ruleKinds(rule: Json): KindRef[] {
  const groups = strs(rule["apiGroups"]);
  return (groups.length === 0 ? [""] : groups).flatMap((group) =>
    strs(rule["kinds"]).map((kind) => ({ group, kind })),
  );
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function serviceAccountUser(ref: string): string {
  const [namespace, name] = ref.split("/");
  return name === undefined ? ref : `system:serviceaccount:${namespace ?? ""}:${name}`;
}

/**
 * The revision a record names: the Git revision, and for a Helm GitSync the chart, its version
 * and digest and the values' digest (status.helm), so the record says exactly what was deployed.
 */
function deployedRevision(status: Record<string, unknown>): string | undefined {
  const git = optionalString(status["lastAppliedRevision"]);
  const helm = rec(status["helm"]);
  const chart = optionalString(helm["chart"]);
  if (git === undefined || chart === undefined) return git;
  const digest = optionalString(helm["digest"]);
  const values = optionalString(helm["valuesDigest"]);
  const version = optionalString(helm["version"]) ?? "?";
  return (
    `${git} chart ${chart}-${version}` +
    `${digest === undefined ? "" : `@${digest}`}${values === undefined ? "" : ` values ${values}`}`
  );
}

function addInventory(gitSync: KubeObject, into: Map<string, GitOrigin>, kinds: KindRef[]): void {
  const status = rec(gitSync["status"]);
  const spec = rec(gitSync["spec"]);
  const revision = deployedRevision(status);
  const base = {
    gitSync: { namespace: gitSync.metadata.namespace ?? "", name: gitSync.metadata.name ?? "" },
    ...(revision === undefined ? {} : { revision }),
  };
  for (const raw of arr(status["inventory"])) {
    const entry = rec(raw);
    const [apiVersion, kind, name] = [entry["apiVersion"], entry["kind"], entry["name"]];
    if (typeof apiVersion !== "string" || typeof kind !== "string" || typeof name !== "string")
      continue;
    const path = optionalString(entry["path"]) ?? optionalString(spec["path"]);
    const id = objectId(groupOf(apiVersion), kind, optionalString(entry["namespace"]), name);
    into.set(id, compact({ ...base, path }));
    kinds.push({ group: groupOf(apiVersion), kind, apiVersion });
  }
}

function addGuard(spec: Json, scope: MutableScope): void {
  const match = rec(spec["match"]);
  const kinds = new Set<string>();
  for (const rule of arr(match["resources"])) {
    for (const k of ruleKinds(rec(rule))) {
      scope.kinds.push(k);
      scope.guardedKinds.add(kindId(k.group, k.kind));
      kinds.add(kindId(k.group, k.kind));
    }
  }
  if (kinds.size === 0) return;
  const namespaceSelector = parseSelector(match["namespaceSelector"]);
  scope.guards.push(namespaceSelector === undefined ? { kinds } : { kinds, namespaceSelector });
}

function addPolicy(policy: KubeObject, scope: MutableScope): void {
  const spec = rec(policy["spec"]);
  addGuard(spec, scope);
  for (const rule of arr(spec["ignoreFields"])) {
    for (const k of ruleKinds(rec(rule))) {
      const id = kindId(k.group, k.kind);
      scope.ignore.set(id, [...(scope.ignore.get(id) ?? []), ...strs(rec(rule)["jsonPointers"])]);
    }
  }
  addReconcilers(scope, rec(spec["reconcilers"]));
  arr(spec["alerts"]).forEach((sink, i) => {
    scope.alerts.push({
      ...(rec(sink) as Omit<AlertSinkSpec, "id">),
      id: `${policy.metadata.name ?? ""}#${String(i)}`,
    });
  });
}

function addReconcilers(scope: MutableScope, reconcilers: Record<string, unknown>): void {
  for (const sa of strs(reconcilers["serviceAccounts"]))
    scope.usernames.add(serviceAccountUser(sa));
  for (const user of strs(reconcilers["users"])) scope.usernames.add(user);
  for (const group of strs(reconcilers["groups"])) scope.groups.add(group);
  // Presets name the service accounts of Argo CD, Flux or ours: their writes are Git's too.
  for (const name of strs(reconcilers["presets"])) {
    const preset = RECONCILER_PRESETS[name as PresetName] as ReconcilerPreset | undefined;
    for (const sa of preset?.serviceAccounts ?? []) scope.usernames.add(serviceAccountUser(sa));
  }
}

interface MutableScope {
  kinds: KindRef[];
  guardedKinds: Set<string>;
  guards: PolicyGuard[];
  ignore: Map<string, string[]>;
  usernames: Set<string>;
  groups: Set<string>;
  alerts: AlertSinkSpec[];
}

/**
 * The scope from the cluster's GuardPolicies and GitSyncs. productAccounts are the product's
 * own writers (reconciler and secrets service accounts, "namespace/name"): always reconcilers.
 */
export function buildScope(input: {
  readonly policies: readonly KubeObject[];
  readonly gitSyncs: readonly KubeObject[];
  readonly productAccounts: readonly string[];
  readonly fieldManager: string;
  /** How GitSyncs map to service accounts: their accounts' writes are Git changes too. */
  readonly gitSyncIdentity?: GitSyncIdentitySettings;
}): Scope {
  const scope: MutableScope = {
    kinds: [],
    guardedKinds: new Set(),
    guards: [],
    ignore: new Map(),
    usernames: new Set(input.productAccounts.map(serviceAccountUser)),
    groups: new Set(),
    alerts: [],
  };
  for (const policy of input.policies) addPolicy(policy, scope);
  const inventory = new Map<string, GitOrigin>();
  for (const gitSync of input.gitSyncs) {
    addInventory(gitSync, inventory, scope.kinds);
    const settings = input.gitSyncIdentity;
    const namespace = gitSync.metadata.namespace ?? "";
    const account =
      settings === undefined
        ? undefined
        : gitSyncAccount(
            { namespace, serviceAccountName: serviceAccountNameOf(gitSync) },
            settings,
          );
    if (account !== undefined) scope.usernames.add(account.username);
  }
  const unique = new Map(scope.kinds.map((k) => [kindId(k.group, k.kind), k]));
  return {
    kinds: [...unique.values()],
    guardedKinds: scope.guardedKinds,
    guards: scope.guards,
    inventory,
    ignore: scope.ignore,
    reconcilers: {
      usernames: scope.usernames,
      groups: scope.groups,
      fieldManager: input.fieldManager,
    },
    alerts: scope.alerts,
  };
}

/**
 * Work for objects a scope change brought into an inventory: "group/Kind" and "namespace/name"
 * of each id in next's inventory that prev's lacked. A GitSync lists its objects after applying
 * them, so their watch events usually come first, find them out of scope, and would otherwise
 * leave them unaudited (no baseline) until they next change.
 */
export function newlyInventoried(
  prev: Scope,
  next: Scope,
): { readonly kind: string; readonly key: string }[] {
  const added: { kind: string; key: string }[] = [];
  for (const id of next.inventory.keys()) {
    if (prev.inventory.has(id)) continue;
    const [group = "", kind = "", namespace = "", name = ""] = id.split("/");
    added.push({
      kind: kindId(group, kind),
      key: namespace === "" ? name : `${namespace}/${name}`,
    });
  }
  return added;
}

/** The scope before any policy or GitSync is known. */
export function emptyScope(fieldManager: string): Scope {
  return buildScope({ policies: [], gitSyncs: [], productAccounts: [], fieldManager });
}

/** A namespace's labels by name; undefined when the namespace is not (or no longer) known. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

/** The labels a namespaceSelector sees for obj: its namespace's, or a Namespace's own. */
function selectorLabels(obj: KubeObject, labelsOf: NamespaceLabels): Record<string, string> {
  const isNamespace = groupOf(obj.apiVersion) === "" && obj.kind === "Namespace";
  const name = isNamespace ? (obj.metadata.name ?? "") : (obj.metadata.namespace ?? "");
  const own = isNamespace ? obj.metadata.labels : labelsOf(name);
  return { ...own, [NAMESPACE_NAME_LABEL]: name };
}

/**
 * Whether a policy guards obj: one names its kind and, for a namespaced object (or a
 * Namespace), its selector matches the namespace's labels, as the admission webhook decides.
 * Other cluster-scoped objects are always in a selector's reach.
 */
export function isGuarded(scope: Scope, obj: KubeObject, labelsOf: NamespaceLabels): boolean {
  const id = kindId(groupOf(obj.apiVersion), obj.kind);
  const reached = scope.guards.filter((g) => g.kinds.has(id));
  if (reached.length === 0) return false;
  const namespaced = obj.metadata.namespace !== undefined || id === kindId("", "Namespace");
  if (!namespaced) return true;
  const labels = selectorLabels(obj, labelsOf);
  return reached.some(
    (g) => g.namespaceSelector === undefined || selectorMatches(g.namespaceSelector, labels),
  );
}
