/**
 * The CEL of the compiled policy: what it skips (matchConditions: identities that always pass,
 * deletions in progress) and what it admits among the rest (variables + one validation).
 * Every allow of the webhook must be an allow here too; see decide.ts for the order.
 *
 * What CEL cannot express is left to the webhook, and errs towards allowing: Git locations and
 * field lists in messages, "someone else holds this object" (a mark's liveness needs the time),
 * plaintext Secrets. Kubernetes CEL has no clock, so the expiry window is checked against a
 * time baked into the policy (bakedAt), re-applied every BAKE_INTERVAL_MS: an expiry must be
 * after bakedAt (weaker than "in the future") and at most maxDuration after bakedAt plus the
 * bake slack (so a webhook-valid mark always passes while the policy is fresh).
 */
import { BREAK_GLASS_ANNOTATIONS, CLOCK_SKEW_MS, MAX_REASON_LENGTH } from "../break-glass.js";
import { serviceAccountUser } from "../identity.js";
import type { GitSyncWriter } from "../gitsync-writers.js";
import type { GuardPolicy, IdentityList } from "../policy-types.js";
import { rfc3339 } from "../../runtime/conditions.js";
import { allOf, annotationsOf, anyOf, celString, inAnyGroup, isUser } from "./cel.js";
import { unchangedExpression } from "./ignore-branches.js";

export const BAKE_INTERVAL_MS = 10 * 60_000;

/** RFC 3339 as Go's time.Parse (CEL timestamp()) reads it: stricter than duration.ts. */
const RFC3339_CEL =
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$";

export interface MatchCondition {
  readonly name: string;
  readonly expression: string;
}

export interface Variable {
  readonly name: string;
  readonly expression: string;
}

function usersOf(list: IdentityList): string[] {
  return [...list.users, ...list.serviceAccounts.map(serviceAccountUser)];
}

function passes(list: IdentityList): string {
  return anyOf([isUser(usersOf(list)), inAnyGroup(list.groups)].filter((e) => e !== "false"));
}

/**
 * A GitSync identity writing in its own namespace. The webhook's rule is narrower (its own
 * inventory, and unowned objects of its namespace); CEL sees no inventories, so while the
 * webhook is skipped the backstop keeps the namespace bound only.
 */
function gitSyncWriterCondition(writers: readonly GitSyncWriter[]): MatchCondition | undefined {
  if (writers.length === 0) return undefined;
  const pairs = writers.map((w) => celString(`${w.namespace}/${w.username}`)).join(", ");
  return {
    name: "not-gitsync-in-own-namespace",
    expression: `!(request.namespace != "" && (request.namespace + "/" + request.userInfo.username) in [${pairs}])`,
  };
}

/** Conditions under which the policy does not apply at all. */
export function matchConditions(
  policy: GuardPolicy,
  gitSyncWriters: readonly GitSyncWriter[] = [],
): MatchCondition[] {
  const trusted: IdentityList = {
    users: [...policy.exemptions.users, ...policy.reconcilers.users],
    groups: [...policy.exemptions.groups, ...policy.reconcilers.groups],
    serviceAccounts: [...policy.exemptions.serviceAccounts, ...policy.reconcilers.serviceAccounts],
  };
  const conditions: MatchCondition[] = [
    { name: "not-exempt-or-reconciler", expression: `!(${passes(trusted)})` },
    {
      name: "not-being-deleted",
      expression: "oldObject == null || !has(oldObject.metadata.deletionTimestamp)",
    },
  ];
  const gitSync = gitSyncWriterCondition(gitSyncWriters);
  if (gitSync !== undefined) conditions.push(gitSync);
  const writers = policy.spec.secrets.writers;
  const writer = passes(writers);
  if (writer !== "false") {
    const secret = 'request.resource.group == "" && request.resource.resource == "secrets"';
    conditions.push({ name: "not-secrets-writer", expression: `!(${secret} && (${writer}))` });
  }
  return conditions;
}

const { reason: REASON, expires: EXPIRES, by: BY } = BREAK_GLASS_ANNOTATIONS;
const MARK_POINTERS = Object.values(BREAK_GLASS_ANNOTATIONS).map(
  (key) => `/metadata/annotations/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`,
);

function markValid(policy: GuardPolicy, bakedAt: number): string {
  const get = (key: string): string => `variables.mark[${celString(key)}]`;
  const has = (key: string): string => `${celString(key)} in variables.mark`;
  const windowMs = policy.breakGlass.maxDurationMs + CLOCK_SKEW_MS + 2 * BAKE_INTERVAL_MS;
  const baked = `timestamp(${celString(rfc3339(bakedAt))})`;
  return allOf([
    `${has(BY)} && ${get(BY)} == request.userInfo.username`,
    `${has(REASON)} && ${get(REASON)}.size() <= ${MAX_REASON_LENGTH} && ${get(REASON)}.matches(${celString(policy.breakGlass.reasonPattern.source)})`,
    `${has(EXPIRES)} && ${get(EXPIRES)}.matches(${celString(RFC3339_CEL)})`,
    `timestamp(${get(EXPIRES)}) > ${baked}`,
    `timestamp(${get(EXPIRES)}) <= ${baked} + duration(${celString(`${Math.ceil(windowMs / 1000)}s`)})`,
  ]);
}

const FINALIZERS = (o: string): string =>
  `(has(${o}.metadata.finalizers) ? ${o}.metadata.finalizers : [])`;

export function variables(policy: GuardPolicy, bakedAt: number): Variable[] {
  const rules = policy.spec.ignoreFields;
  const after = annotationsOf("object");
  const before = annotationsOf("oldObject");
  return [
    { name: "update", expression: 'request.operation == "UPDATE"' },
    { name: "unchanged", expression: `variables.update && (${unchangedExpression(rules)})` },
    {
      name: "onlyRemovesFinalizers",
      expression: allOf([
        "variables.update",
        `size(${FINALIZERS("object")}) < size(${FINALIZERS("oldObject")})`,
        `${FINALIZERS("object")}.all(f, f in ${FINALIZERS("oldObject")})`,
        unchangedExpression([], ["/metadata/finalizers"]),
      ]),
    },
    { name: "inBreakGlassGroup", expression: inAnyGroup(policy.breakGlass.groups) },
    // The mark the request relies on: the new object's, else (removal, DELETE) the old one's.
    {
      name: "mark",
      expression: `${celString(BY)} in ${after} ? ${after} : ${before}`,
    },
    {
      name: "breakGlass",
      expression: `variables.inBreakGlassGroup && ${markValid(policy, bakedAt)}`,
    },
    {
      // Taking a (dead) mark off, and nothing else, by a responder or its holder.
      name: "clearsMark",
      expression: allOf([
        "variables.update",
        `!(${celString(BY)} in ${after}) && ${celString(BY)} in ${before}`,
        `variables.inBreakGlassGroup || ${before}[${celString(BY)}] == request.userInfo.username`,
        unchangedExpression(rules, MARK_POINTERS),
      ]),
    },
  ];
}

export const ADMIT_EXPRESSION =
  "variables.unchanged || variables.onlyRemovesFinalizers || variables.breakGlass || variables.clearsMark";
