/**
 * What decide() returns. The reason code is stable (metrics label, journal field, tests); the
 * message is for people and may change.
 */
import type { ObjectRef } from "../kube/objects.js";

export const ALLOW_REASONS = [
  "NoPolicy",
  "SystemIdentity",
  "SystemResource",
  "ExcludedNamespace",
  "Exempt",
  "Reconciler",
  "SecretsWriter",
  "NotGuarded",
  "StatusSubresource",
  "ScaleSubresource",
  "Subresource",
  "Deleting",
  "FinalizerRemoval",
  "NoChange",
  "IgnoredFields",
] as const;
export const WARN_REASONS = ["BreakGlass", "BreakGlassEnded", "AuditMode"] as const;
export const DENY_REASONS = [
  "OutOfBandChange",
  "PlaintextSecret",
  "BreakGlassDenied",
  "InternalError",
] as const;
export const REASON_CODES = [...ALLOW_REASONS, ...WARN_REASONS, ...DENY_REASONS] as const;

export type AllowReason = (typeof ALLOW_REASONS)[number];
export type WarnReason = (typeof WARN_REASONS)[number];
export type DenyReason = (typeof DENY_REASONS)[number];
export type ReasonCode = (typeof REASON_CODES)[number];

export type Effect = "allow" | "allow-with-warning" | "deny";

/** Where an object comes from in Git: a GitSync's inventory entry. */
export interface GitLocation {
  readonly gitSync: { readonly namespace: string; readonly name: string };
  /** The repository URL (GitSync spec.url). */
  readonly url: string;
  /** The file in the repository that holds the object. */
  readonly path: string;
  readonly revision?: string;
}

/** The active break-glass the decision relied on or refused. */
export interface BreakGlassInfo {
  readonly reason: string;
  readonly expires: string;
  readonly by: string;
}

export interface Decision {
  readonly effect: Effect;
  readonly reason: ReasonCode;
  /** On deny: the status message shown to the client. Otherwise a note for logs. */
  readonly message: string;
  readonly warnings: readonly string[];
  /** The GuardPolicy that decided; absent for built-in rules. */
  readonly policy?: string;
  /** Audit mode: what Enforce would have answered. */
  readonly wouldDeny?: DenyReason;
  readonly object: ObjectRef;
  /** JSON pointers the request changes ("/spec/replicas"); ["(create)"] / ["(delete)"] otherwise. */
  readonly changedFields: readonly string[];
  readonly location?: GitLocation;
  /**
   * Allowed with no policy naming reconcilers (NoPolicy, NotGuarded, a scale), but written by
   * the bundled reconciler or a GitSync's account for what it owns: Git's write, never a fact.
   */
  readonly byReconciler?: true;
  readonly breakGlass?: BreakGlassInfo;
  /** Keys the API server records in its audit event (prefixed with the webhook name). */
  readonly auditAnnotations: Readonly<Record<string, string>>;
}

export function isAllowed(decision: Decision): boolean {
  return decision.effect !== "deny";
}
