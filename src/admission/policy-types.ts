/** GuardPolicy as gitops-guard uses it: the validated spec with defaults, plus what is derived. */
import type { PresetName } from "../presets/reconcilers.js";

export type GuardMode = "Enforce" | "Audit";

export interface IdentityList {
  readonly users: readonly string[];
  readonly groups: readonly string[];
  /** NAMESPACE/NAME */
  readonly serviceAccounts: readonly string[];
}

export interface ReconcilerList extends IdentityList {
  readonly presets: readonly PresetName[];
}

export interface ResourceRule {
  /** "" is the core group; "*" any group. */
  readonly apiGroups: readonly string[];
  /** "*" any kind. */
  readonly kinds: readonly string[];
  /** Subresources guarded as well ("scale", "status"); all others pass. */
  readonly subresources: readonly string[];
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export interface MatchSpec {
  /** Absent: every object listed in a GitSync inventory. */
  readonly resources?: readonly ResourceRule[];
  /** Absent: every namespace but the excluded ones. */
  readonly namespaceSelector?: LabelSelector;
}

export interface BreakGlassSpec {
  readonly groups: readonly string[];
  readonly maxDuration: string;
  readonly reasonPattern: string;
}

export interface IgnoreFieldsRule {
  readonly apiGroups: readonly string[];
  readonly kinds: readonly string[];
  readonly jsonPointers: readonly string[];
}

export interface SecretsSpec {
  readonly denyPlaintext: boolean;
  readonly writers: IdentityList;
}

export interface AlertSink {
  readonly type: "slack" | "alertmanager" | "webhook";
  readonly url?: string;
  readonly secretRef?: { readonly name: string; readonly key?: string };
}

export interface GuardPolicySpec {
  readonly mode: GuardMode;
  readonly match: MatchSpec;
  readonly reconcilers: ReconcilerList;
  readonly exemptions: IdentityList;
  readonly breakGlass: BreakGlassSpec;
  readonly ignoreFields: readonly IgnoreFieldsRule[];
  readonly secrets: SecretsSpec;
  readonly alerts: readonly AlertSink[];
}

export interface GuardPolicyDocument {
  readonly apiVersion: "gitops-guard.io/v1alpha1";
  readonly kind: "GuardPolicy";
  readonly metadata: { readonly name: string; readonly generation?: number };
  readonly spec: GuardPolicySpec;
}

/** A parsed policy: frozen, defaults applied, ready for decide(). */
export interface GuardPolicy {
  readonly name: string;
  readonly generation?: number;
  /** As written, with the schema's defaults filled in. */
  readonly spec: GuardPolicySpec;
  /** spec.reconcilers with the presets' service accounts added. */
  readonly reconcilers: IdentityList;
  /** spec.exemptions with the built-in system identities added. */
  readonly exemptions: IdentityList;
  readonly breakGlass: {
    readonly groups: readonly string[];
    readonly maxDurationMs: number;
    readonly reasonPattern: RegExp;
  };
}
