/**
 * The break-glass contract (DESIGN.md). A responder marks the object with three annotations:
 *
 *   gitops-guard.io/break-glass          the reason; must match spec.breakGlass.reasonPattern
 *   gitops-guard.io/break-glass-expires  RFC 3339; in the future, at most maxDuration from now
 *   gitops-guard.io/break-glass-by       the responder's own user name: who holds this mark
 *
 * A validating webhook cannot write, so "whose break-glass is it" is recorded by the responder
 * in break-glass-by and checked against userInfo whenever the mark is set or changed: nobody
 * can put a mark in someone else's name. While a mark is active only its holder may change the
 * object, extend the mark or remove it. The annotations never authorise alone: every request is
 * judged on userInfo (the holder must still be in a break-glass group, the mark still valid).
 */
import type { BreakGlassInfo } from "./decision.js";
import { parseRfc3339 } from "./duration.js";
import type { RequestFacts } from "./facts.js";
import { inAnyGroup } from "./identity.js";
import type { GuardPolicy } from "./policy-types.js";
import type { AdmissionObject } from "./review-types.js";

export const BREAK_GLASS_ANNOTATIONS = {
  reason: "gitops-guard.io/break-glass",
  expires: "gitops-guard.io/break-glass-expires",
  by: "gitops-guard.io/break-glass-by",
} as const;

/** Tolerated difference between the responder's clock and ours when checking maxDuration. */
export const CLOCK_SKEW_MS = 60_000;
export const MAX_REASON_LENGTH = 256;

interface Mark {
  readonly reason: string | undefined;
  readonly expires: string | undefined;
  readonly by: string | undefined;
}

export type BreakGlassJudgement =
  | { readonly kind: "none"; readonly note?: string }
  | {
      readonly kind: "allow";
      readonly reason: "BreakGlass" | "BreakGlassEnded";
      readonly info: BreakGlassInfo;
    }
  | { readonly kind: "deny"; readonly problem: string; readonly info?: BreakGlassInfo };

export interface BreakGlassInput {
  readonly facts: RequestFacts;
  readonly policy: GuardPolicy;
  readonly now: number;
  /** The request changes more than the break-glass annotations. */
  readonly otherChanges: boolean;
}

function markOf(obj: AdmissionObject | undefined): Mark | undefined {
  const annotations = obj?.metadata?.annotations ?? {};
  const get = (key: string): string | undefined =>
    Object.hasOwn(annotations, key) ? annotations[key] : undefined;
  const mark = {
    reason: get(BREAK_GLASS_ANNOTATIONS.reason),
    expires: get(BREAK_GLASS_ANNOTATIONS.expires),
    by: get(BREAK_GLASS_ANNOTATIONS.by),
  };
  const empty = mark.reason === undefined && mark.expires === undefined && mark.by === undefined;
  return empty ? undefined : mark;
}

function sameMark(a: Mark | undefined, b: Mark | undefined): boolean {
  return a?.reason === b?.reason && a?.expires === b?.expires && a?.by === b?.by;
}

function infoOf(mark: Mark): BreakGlassInfo {
  return { reason: mark.reason ?? "", expires: mark.expires ?? "", by: mark.by ?? "" };
}

/**
 * A mark that holds the object now: it names a holder and expires in the future, within
 * maxDuration. A mark that does not (say, one committed to Git or set while the webhook was
 * bypassed, with no holder or a far expiry) holds nothing: it can neither lock others out nor
 * admit anything, and a responder may replace it.
 */
function isLive(mark: Mark, input: BreakGlassInput): boolean {
  const expires = parseRfc3339(mark.expires ?? "");
  if (expires === undefined || mark.by === undefined || mark.by === "") return false;
  const latest = input.now + input.policy.breakGlass.maxDurationMs + CLOCK_SKEW_MS;
  return expires > input.now && expires <= latest;
}

function deadNote(mark: Mark, input: BreakGlassInput): string {
  const expires = parseRfc3339(mark.expires ?? "");
  return expires !== undefined && expires <= input.now
    ? `the break-glass by ${mark.by ?? "?"} on it expired at ${mark.expires ?? "?"}`
    : "the break-glass annotations on it are not a valid break-glass (holder or expiry)";
}

/** True when the request changes the break-glass annotations (set, extend, edit or remove). */
export function breakGlassChanged(facts: RequestFacts): boolean {
  if (facts.operation !== "UPDATE") return false;
  return !sameMark(markOf(facts.oldObject), markOf(facts.object));
}

function identityProblem(mark: Mark, input: BreakGlassInput): string | undefined {
  const { who } = input.facts;
  const groups = input.policy.breakGlass.groups;
  if (!inAnyGroup(who, groups)) {
    const allowed = groups.length > 0 ? groups.join(", ") : "none are configured";
    return `${who.username} is not in a break-glass group (${allowed})`;
  }
  if (mark.by !== who.username) {
    return `annotation ${BREAK_GLASS_ANNOTATIONS.by} must be your own user name "${who.username}"`;
  }
  return undefined;
}

function reasonProblem(reason: string | undefined, pattern: RegExp): string | undefined {
  if (reason === undefined || reason.trim() === "") {
    return `annotation ${BREAK_GLASS_ANNOTATIONS.reason} (the reason) is missing`;
  }
  if (reason.length > MAX_REASON_LENGTH) return `the reason is longer than ${MAX_REASON_LENGTH}`;
  // Length is capped first: the pattern is the admin's, the input the requester's.
  if (!pattern.test(reason)) return `the reason "${reason}" does not match ${pattern.source}`;
  return undefined;
}

function expiryProblem(expires: string | undefined, input: BreakGlassInput): string | undefined {
  const at = parseRfc3339(expires ?? "");
  if (at === undefined) {
    return `annotation ${BREAK_GLASS_ANNOTATIONS.expires} must be an RFC 3339 time, not "${expires ?? ""}"`;
  }
  if (at <= input.now) return `the expiry ${expires ?? ""} is in the past`;
  const { maxDurationMs } = input.policy.breakGlass;
  if (at > input.now + maxDurationMs + CLOCK_SKEW_MS) {
    return `the expiry ${expires ?? ""} is more than ${input.policy.spec.breakGlass.maxDuration} (maxDuration) from now`;
  }
  return undefined;
}

function markProblem(mark: Mark, input: BreakGlassInput): string | undefined {
  return (
    identityProblem(mark, input) ??
    reasonProblem(mark.reason, input.policy.breakGlass.reasonPattern) ??
    expiryProblem(mark.expires, input)
  );
}

function judged(
  mark: Mark,
  input: BreakGlassInput,
  ok: "BreakGlass" | "BreakGlassEnded",
): BreakGlassJudgement {
  const problem = markProblem(mark, input);
  return problem === undefined
    ? ({ kind: "allow", reason: ok, info: infoOf(mark) } as const)
    : ({ kind: "deny", problem, info: infoOf(mark) } as const);
}

function heldByOther(mark: Mark): BreakGlassJudgement {
  const holder = mark.by ?? "(unknown)";
  return {
    kind: "deny",
    problem:
      `${holder} holds the break-glass on it until ${mark.expires ?? "?"}: ` +
      `nobody else may change the object, extend or remove that break-glass`,
    info: infoOf(mark),
  };
}

/** Removing a mark: its holder may end it; a dead one may be cleaned up on its own. */
function judgeRemoval(old: Mark, input: BreakGlassInput): BreakGlassJudgement {
  const { who } = input.facts;
  if (isLive(old, input)) return judged(old, input, "BreakGlassEnded");
  const mayClean = old.by === who.username || inAnyGroup(who, input.policy.breakGlass.groups);
  if (!input.otherChanges && mayClean) {
    return { kind: "allow", reason: "BreakGlassEnded", info: infoOf(old) };
  }
  return { kind: "none", note: deadNote(old, input) };
}

function judgeExisting(mark: Mark, input: BreakGlassInput): BreakGlassJudgement {
  if (isLive(mark, input)) return judged(mark, input, "BreakGlass");
  return { kind: "none", note: deadNote(mark, input) };
}

export function judgeBreakGlass(input: BreakGlassInput): BreakGlassJudgement {
  const { facts } = input;
  const old = markOf(facts.oldObject);
  // A DELETE takes the mark with it: it is judged as a change made under the existing mark.
  const next = facts.operation === "DELETE" ? old : markOf(facts.object);
  if (old === undefined)
    return next === undefined ? { kind: "none" } : judged(next, input, "BreakGlass");
  if (isLive(old, input) && old.by !== facts.who.username) return heldByOther(old);
  if (sameMark(old, next)) return judgeExisting(old, input);
  return next === undefined ? judgeRemoval(old, input) : judged(next, input, "BreakGlass");
}
