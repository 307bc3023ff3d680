/**
 * decide(): the pure admission decision. Order matters and is the safety argument:
 *
 *  1. built-in: system identities, machinery kinds, excluded namespaces (never lock out the
 *     control plane, whatever the policies say);
 *  2. per policy, scope: namespaceSelector, kinds or inventory; subresources pass unless the
 *     policy lists them (a policy that does not reach the object has no say);
 *  3. its exemptions, reconcilers, Secret writers (userInfo only);
 *  4. lifecycle: once deletion started, anything goes; finalizer removal always does;
 *  5. no real change (only metadata noise or ignoreFields) passes;
 *  6. break-glass, then denial (plaintext Secret or out-of-band change), softened by Audit mode.
 *
 * Dry-run requests are judged by the same rules: `kubectl diff` and `--dry-run=server` show the
 * denial early. All policies must allow (verdicts.ts combine()).
 */
import { annotationPointer, isUnder, withoutIgnored } from "./field-diff.js";
import { BREAK_GLASS_ANNOTATIONS, breakGlassChanged, judgeBreakGlass } from "./break-glass.js";
import { ownNamespaceOf, type DecideContext } from "./context.js";
import type { Decision, GitLocation } from "./decision.js";
import { factsOf, type RequestFacts } from "./facts.js";
import { matchIdentity } from "./identity.js";
import { guardOf, ignoredPointers, namespaceInScope, type Guard } from "./match.js";
import {
  breakGlassDeniedMessage,
  describeObject,
  outOfBandMessage,
  plaintextSecretMessage,
} from "./messages.js";
import type { GuardPolicy } from "./policy-types.js";
import type { AdmissionRequest } from "./review-types.js";
import { EXCLUDED_NAMESPACES, SYSTEM_GROUPS, SYSTEM_USERS, isSystemKind } from "./system.js";
import { allow, breakGlassAllow, combine, deny, enforce, type Subject } from "./verdicts.js";

export type { DecideContext } from "./context.js";

interface PolicyInput {
  readonly facts: RequestFacts;
  readonly policy: GuardPolicy;
  readonly now: number;
  readonly context: DecideContext;
  readonly location: GitLocation | undefined;
}

/** Rules that hold before and regardless of any GuardPolicy. */
function builtin(facts: RequestFacts, context: DecideContext): Decision | undefined {
  const subject = { facts };
  const system = matchIdentity(facts.who, {
    users: SYSTEM_USERS,
    groups: SYSTEM_GROUPS,
    serviceAccounts: [],
  });
  if (system !== undefined) return allow(subject, "SystemIdentity", `system identity (${system})`);
  if (isSystemKind(facts.group, facts.kind)) {
    return allow(subject, "SystemResource", `${facts.kind} is cluster machinery`);
  }
  const ns = facts.namespace;
  if (ns !== "" && (EXCLUDED_NAMESPACES.includes(ns) || ns === ownNamespaceOf(context))) {
    return allow(subject, "ExcludedNamespace", `namespace ${ns} is never guarded`);
  }
  return undefined;
}

function identityRule(input: PolicyInput, subject: Subject): Decision | undefined {
  const { facts, policy } = input;
  const exempt = matchIdentity(facts.who, policy.exemptions);
  if (exempt !== undefined) {
    // The fields go into the attribution fact the auditor joins to the drift it sees.
    return allow({ ...subject, fields: facts.changes() }, "Exempt", `exempt (${exempt})`);
  }
  const reconciler = matchIdentity(facts.who, policy.reconcilers);
  if (reconciler !== undefined) return allow(subject, "Reconciler", `reconciler (${reconciler})`);
  const { username } = facts.who;
  const labels = facts.oldObject?.metadata?.labels;
  const gitSync = input.context.gitSyncWriter?.(username, facts.ref, labels);
  if (gitSync !== undefined) {
    return allow(subject, "Reconciler", `reconciler of GitSync ${gitSync} (${facts.who.username})`);
  }
  const writer = facts.isSecret ? matchIdentity(facts.who, policy.spec.secrets.writers) : undefined;
  if (writer !== undefined) return allow(subject, "SecretsWriter", `Secret writer (${writer})`);
  return undefined;
}

/**
 * The subject of an allow that may become an attribution fact (events.ts): an object a GitSync
 * applied (location known) or a scale, with the fields the request changes, as for Exempt. Only
 * then: the diff is linear in the object's size, and most allows need none.
 */
function withFields(subject: Subject, context: DecideContext): Subject {
  const { facts } = subject;
  const sub = facts.subresource;
  const mayBeFact = sub === "scale" || (sub === "" && subject.location !== undefined);
  if (!mayBeFact) return subject;
  if (isGitWriter(facts, context)) return { ...subject, byReconciler: true };
  return { ...subject, fields: facts.changes() };
}

/**
 * The bundled reconciler, or a GitSync's account writing what it owns: with no policy to name
 * reconcilers, its writes (a sync, self-heal, prune) are still Git's, never a fact.
 */
function isGitWriter(facts: RequestFacts, context: DecideContext): boolean {
  const { username } = facts.who;
  if (context.reconcilerUsername !== undefined && username === context.reconcilerUsername) {
    return true;
  }
  const labels = facts.oldObject?.metadata?.labels;
  return context.gitSyncWriter?.(username, facts.ref, labels) !== undefined;
}

function scopeRule(input: PolicyInput, subject: Subject, guard: Guard): Decision | undefined {
  const { facts, policy, context } = input;
  if (!namespaceInScope(policy, facts, context)) {
    const message = `namespace ${facts.namespace} is not selected`;
    return allow(withFields(subject, context), "NotGuarded", message);
  }
  const mayBePlaintext = facts.isSecret && policy.spec.secrets.denyPlaintext;
  if (!guard.guarded && (facts.subresource !== "" || !mayBePlaintext)) {
    const message = `${describeObject(facts)} is not guarded`;
    return allow(withFields(subject, context), "NotGuarded", message);
  }
  if (facts.subresource === "" || (guard.guarded && guard.subresourceGuarded)) return undefined;
  return subresourceAllow(subject, facts.subresource, context);
}

function subresourceAllow(subject: Subject, subresource: string, context: DecideContext): Decision {
  const message = `subresource ${subresource} is not guarded`;
  if (subresource === "status") return allow(subject, "StatusSubresource", message);
  if (subresource === "scale") {
    return allow(withFields(subject, context), "ScaleSubresource", message);
  }
  return allow(subject, "Subresource", message);
}

/** Finalizers only shrink: what a finalizer's owner does to let a deletion finish. */
function onlyRemovesFinalizers(facts: RequestFacts): boolean {
  const changes = facts.changes();
  if (changes.length === 0 || !changes.every((p) => isUnder(p, "/metadata/finalizers"))) {
    return false;
  }
  const before = facts.oldObject?.metadata?.finalizers ?? [];
  const after = facts.object?.metadata?.finalizers ?? [];
  return after.length < before.length && after.every((f) => before.includes(f));
}

function lifecycleRule(input: PolicyInput, subject: Subject): Decision | undefined {
  const { facts } = input;
  if (facts.operation !== "UPDATE" && facts.operation !== "DELETE") return undefined;
  if (facts.deleting) return allow(subject, "Deleting", "the object is being deleted");
  if (facts.operation === "UPDATE" && onlyRemovesFinalizers(facts)) {
    return allow(subject, "FinalizerRemoval", "the request only removes finalizers");
  }
  return undefined;
}

function plaintextSecret(input: PolicyInput): boolean {
  const { facts, policy } = input;
  if (!facts.isSecret || !policy.spec.secrets.denyPlaintext || facts.subresource !== "")
    return false;
  if (facts.operation === "CREATE") {
    const obj = facts.object ?? {};
    return hasEntries(obj["data"]) || hasEntries(obj["stringData"]);
  }
  if (facts.operation !== "UPDATE") return false;
  return facts.changes().some((p) => isUnder(p, "/data") || isUnder(p, "/stringData"));
}

function hasEntries(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.keys(value).length > 0;
}

/** An UPDATE that changes nothing, or only ignored fields (never the break-glass mark). */
function noChange(
  subject: Subject,
  raw: readonly string[],
  fields: readonly string[],
): Decision | undefined {
  const { facts } = subject;
  if (facts.operation !== "UPDATE" || fields.length > 0 || breakGlassChanged(facts))
    return undefined;
  return raw.length === 0
    ? allow(subject, "NoChange", "the request changes nothing")
    : allow(subject, "IgnoredFields", "the request changes only ignored fields");
}

function judgeChange(input: PolicyInput, guard: Guard): Decision {
  const { facts, policy } = input;
  const raw = facts.changes();
  const fields = withoutIgnored(raw, ignoredPointers(policy, facts));
  const subject = { facts, policy, location: input.location, fields };
  const plaintext = plaintextSecret(input);
  if (!guard.guarded && !plaintext) {
    return allow(subject, "NotGuarded", `${describeObject(facts)} is not guarded`);
  }
  const unchanged = noChange(subject, raw, fields);
  if (unchanged !== undefined) return unchanged;
  const markPointers = Object.values(BREAK_GLASS_ANNOTATIONS).map(annotationPointer);
  const otherChanges = withoutIgnored(fields, markPointers).length > 0;
  const glass = judgeBreakGlass({ facts, policy, now: input.now, otherChanges });
  if (glass.kind === "allow") return breakGlassAllow(subject, glass.reason, glass.info);
  const parts = { facts, policy, fields, location: input.location };
  if (glass.kind === "deny") {
    const message = breakGlassDeniedMessage({ ...parts, problem: glass.problem });
    return enforce(policy, deny(subject, "BreakGlassDenied", message));
  }
  const extra = glass.note === undefined ? {} : { extra: `Note: ${glass.note}.` };
  return plaintext
    ? enforce(policy, deny(subject, "PlaintextSecret", plaintextSecretMessage(parts)))
    : enforce(policy, deny(subject, "OutOfBandChange", outOfBandMessage({ ...parts, ...extra })));
}

function evaluate(input: PolicyInput): Decision {
  const subject = { facts: input.facts, policy: input.policy, location: input.location };
  const guard = guardOf(input.policy, input.facts, input.location);
  return (
    scopeRule(input, subject, guard) ??
    identityRule(input, subject) ??
    lifecycleRule(input, subject) ??
    judgeChange(input, guard)
  );
}

/**
 * The decision on one admission request under every policy in force. Pure: time is `now`
 * (ms since the epoch) and everything known about the cluster comes in `context`.
 */
export function decide(
  request: AdmissionRequest,
  policies: readonly GuardPolicy[],
  now: number,
  context: DecideContext = {},
): Decision {
  const facts = factsOf(request);
  const fixed = builtin(facts, context);
  if (fixed !== undefined) return fixed;
  const location = context.locate?.(facts.ref);
  const sorted = [...policies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const decisions = sorted.map((policy) => evaluate({ facts, policy, now, context, location }));
  return (
    combine(decisions) ??
    allow(withFields({ facts, location }, context), "NoPolicy", "no GuardPolicy is in force")
  );
}
