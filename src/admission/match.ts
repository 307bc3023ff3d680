/** Which requests a GuardPolicy reaches: kinds (or the GitSync inventory) and namespaces. */
import type { DecideContext } from "./context.js";
import type { GitLocation } from "./decision.js";
import type { RequestFacts } from "./facts.js";
import type { GuardPolicy, ResourceRule } from "./policy-types.js";
import { selectorMatches } from "./selector.js";

const NAME_LABEL = "kubernetes.io/metadata.name";

/**
 * The resource name the API server uses for kind (gengo's lower-case plural rules), so a rule
 * naming "Deployment" also matches deployments/scale, whose request kind is autoscaling/Scale.
 */
export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower === "endpoints") return lower;
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

type KindRule = Pick<ResourceRule, "apiGroups" | "kinds">;

export function ruleMatches(rule: KindRule, facts: RequestFacts): boolean {
  const resource = facts.request.resource.resource;
  const groupOk = rule.apiGroups.some((g) => g === "*" || g === facts.group);
  return (
    groupOk && rule.kinds.some((k) => k === "*" || k === facts.kind || pluralOf(k) === resource)
  );
}

function namespaceLabels(facts: RequestFacts, context: DecideContext): Record<string, string> {
  const isNamespace = facts.group === "" && facts.kind === "Namespace";
  const own = isNamespace
    ? (facts.object ?? facts.oldObject)?.metadata?.labels
    : context.namespaceLabels?.(facts.namespace);
  // The API server sets this label on every namespace; selectors may rely on it.
  return { ...own, [NAME_LABEL]: facts.namespace };
}

/** The namespaceSelector holds (cluster-scoped objects are always in scope). */
export function namespaceInScope(
  policy: GuardPolicy,
  facts: RequestFacts,
  context: DecideContext,
): boolean {
  const selector = policy.spec.match.namespaceSelector;
  if (facts.namespace === "" || selector === undefined) return true;
  return selectorMatches(selector, namespaceLabels(facts, context));
}

/** The rules of policy that match the request's kind; undefined when it guards by inventory. */
export function matchingRules(
  policy: GuardPolicy,
  facts: RequestFacts,
): ResourceRule[] | undefined {
  return policy.spec.match.resources?.filter((rule) => ruleMatches(rule, facts));
}

export type Guard =
  { readonly guarded: false } | { readonly guarded: true; readonly subresourceGuarded: boolean };

/** Is the object guarded by policy, and is this subresource (if any) guarded too? */
export function guardOf(
  policy: GuardPolicy,
  facts: RequestFacts,
  location: GitLocation | undefined,
): Guard {
  const rules = matchingRules(policy, facts);
  if (rules === undefined) {
    return location === undefined
      ? { guarded: false }
      : { guarded: true, subresourceGuarded: false };
  }
  if (rules.length === 0) return { guarded: false };
  const sub = facts.subresource;
  return { guarded: true, subresourceGuarded: rules.some((r) => r.subresources.includes(sub)) };
}

/** The JSON pointers policy.ignoreFields ignores for this kind. */
export function ignoredPointers(policy: GuardPolicy, facts: RequestFacts): string[] {
  return policy.spec.ignoreFields
    .filter((r) => ruleMatches(r, facts))
    .flatMap((r) => r.jsonPointers);
}
