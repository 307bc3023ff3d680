/** Building Decisions: one shape for every rule, and the Audit-mode downgrade. */
import type {
  AllowReason,
  BreakGlassInfo,
  Decision,
  DenyReason,
  GitLocation,
  WarnReason,
} from "./decision.js";
import type { RequestFacts } from "./facts.js";
import type { GuardPolicy } from "./policy-types.js";

export interface Subject {
  readonly facts: RequestFacts;
  readonly policy?: GuardPolicy;
  readonly location?: GitLocation | undefined;
  readonly fields?: readonly string[];
  /** The writer is the reconciler (Decision.byReconciler). */
  readonly byReconciler?: boolean;
}

function changedFieldsOf(subject: Subject): readonly string[] {
  const { operation } = subject.facts;
  if (operation === "CREATE") return ["(create)"];
  if (operation === "DELETE") return ["(delete)"];
  return subject.fields ?? [];
}

function base(subject: Subject): Omit<Decision, "effect" | "reason" | "message"> {
  return {
    warnings: [],
    ...(subject.policy === undefined ? {} : { policy: subject.policy.name }),
    object: subject.facts.ref,
    changedFields: changedFieldsOf(subject),
    ...(subject.location === undefined ? {} : { location: subject.location }),
    ...(subject.byReconciler === true ? { byReconciler: true } : {}),
    auditAnnotations: {},
  };
}

export function allow(subject: Subject, reason: AllowReason, message: string): Decision {
  return { ...base(subject), effect: "allow", reason, message };
}

export function deny(subject: Subject, reason: DenyReason, message: string): Decision {
  const policy = subject.policy?.name;
  return {
    ...base(subject),
    effect: "deny",
    reason,
    message,
    auditAnnotations: { decision: reason, ...(policy === undefined ? {} : { policy }) },
  };
}

export function breakGlassAllow(
  subject: Subject,
  reason: Extract<WarnReason, "BreakGlass" | "BreakGlassEnded">,
  info: BreakGlassInfo,
): Decision {
  const verb = reason === "BreakGlass" ? "break-glass" : "break-glass ended";
  const warning = `gitops-guard: ${verb} by ${info.by} until ${info.expires}: ${info.reason}`;
  return {
    ...base(subject),
    effect: "allow-with-warning",
    reason,
    message: warning,
    warnings: [warning],
    breakGlass: info,
    auditAnnotations: {
      decision: reason,
      "break-glass-reason": info.reason,
      "break-glass-by": info.by,
      "break-glass-expires": info.expires,
    },
  };
}

/** Enforce answers a denial as it is; Audit allows it with a warning and records the verdict. */
export function enforce(policy: GuardPolicy, decision: Decision): Decision {
  if (policy.spec.mode === "Enforce" || decision.effect !== "deny") return decision;
  const wouldDeny = decision.reason as DenyReason;
  const first = decision.message.split("\n")[0] ?? "";
  return {
    ...decision,
    effect: "allow-with-warning",
    reason: "AuditMode",
    wouldDeny,
    warnings: [`gitops-guard (Audit mode) would deny: ${first.replace(/^gitops-guard: /, "")}`],
    auditAnnotations: {
      ...decision.auditAnnotations,
      decision: "AuditMode",
      "would-deny": wouldDeny,
    },
  };
}

const RANK: Readonly<Record<Decision["effect"], number>> = {
  deny: 0,
  "allow-with-warning": 1,
  allow: 2,
};

/**
 * Every policy must agree: the first denial wins, then the first allow-with-warning, then the
 * first allow from a policy that guards the object. Warnings from all policies are kept.
 */
export function combine(decisions: readonly Decision[]): Decision | undefined {
  const ordered = [...decisions].sort((a, b) => RANK[a.effect] - RANK[b.effect]);
  const top = ordered[0];
  if (top === undefined) return undefined;
  const chosen =
    top.effect === "allow" ? (ordered.find((d) => d.reason !== "NotGuarded") ?? top) : top;
  const warnings = [...new Set(decisions.flatMap((d) => d.warnings))];
  return { ...chosen, warnings };
}
