/**
 * spec.ignoreFields applies per kind, and the webhook ignores the union of every rule that
 * matches the request (match.ts ignoredPointers). One policy covers many kinds, so the CEL is a
 * chain of conditions from the most specific (group and kind named) to the least (any), each
 * carrying the union of the rules that match it.
 */
import { pluralOf } from "../match.js";
import type { IgnoreFieldsRule } from "../policy-types.js";
import { celString } from "./cel.js";
import { ignoreTree, sameExcept } from "./unchanged.js";

const ANY = "*";

interface Branch {
  readonly group: string;
  readonly kind: string;
  readonly pointers: readonly string[];
}

function covers(values: readonly string[], value: string): boolean {
  return value === ANY ? values.includes(ANY) : values.includes(value) || values.includes(ANY);
}

function pointersFor(rules: readonly IgnoreFieldsRule[], group: string, kind: string): string[] {
  const matching = rules.filter((r) => covers(r.apiGroups, group) && covers(r.kinds, kind));
  return [...new Set(matching.flatMap((r) => r.jsonPointers))].sort();
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

/** Most specific first; a branch that would pick the same pointers as its fallback is dropped. */
export function ignoreBranches(rules: readonly IgnoreFieldsRule[]): Branch[] {
  const groups = [...new Set(rules.flatMap((r) => r.apiGroups).filter((g) => g !== ANY))].sort();
  const kinds = [...new Set(rules.flatMap((r) => r.kinds).filter((k) => k !== ANY))].sort();
  const branch = (group: string, kind: string): Branch => ({
    group,
    kind,
    pointers: pointersFor(rules, group, kind),
  });
  const fallback = branch(ANY, ANY);
  const keep = (b: Branch, next: Branch): boolean => !same(b.pointers, next.pointers);
  const byGroup = new Map(groups.map((g) => [g, branch(g, ANY)] as const));
  const byKind = new Map(kinds.map((k) => [k, branch(ANY, k)] as const));
  const groupWide = [...byGroup.values()].filter((b) => keep(b, fallback));
  const kindWide = [...byKind.values()].filter((b) => keep(b, fallback));
  const exact = groups.flatMap((g) =>
    kinds
      .map((k) => branch(g, k))
      .filter((b) => {
        // Without this branch the request would fall to the next one that is kept.
        const next = [byGroup.get(b.group), byKind.get(b.kind)].find(
          (n) => n !== undefined && (groupWide.includes(n) || kindWide.includes(n)),
        );
        return keep(b, next ?? fallback);
      }),
  );
  return [...exact, ...groupWide, ...kindWide, fallback];
}

function kindCondition(kind: string): string {
  return `(request.kind.kind == ${celString(kind)} || request.resource.resource == ${celString(pluralOf(kind))})`;
}

function branchCondition(b: Branch): string {
  const parts = [
    ...(b.group === ANY ? [] : [`request.resource.group == ${celString(b.group)}`]),
    ...(b.kind === ANY ? [] : [kindCondition(b.kind)]),
  ];
  return parts.length === 0 ? "true" : parts.join(" && ");
}

/**
 * CEL, true when object equals oldObject apart from noise, the ignoreFields of the request's
 * kind and the extra pointers.
 */
export function unchangedExpression(
  rules: readonly IgnoreFieldsRule[],
  extra: readonly string[] = [],
): string {
  const branches = ignoreBranches(rules);
  const compare = (b: Branch): string =>
    sameExcept("object", "oldObject", ignoreTree([...b.pointers, ...extra]));
  const last = branches[branches.length - 1];
  let expression = last === undefined ? "false" : compare(last);
  for (const b of branches.slice(0, -1).reverse()) {
    expression = `(${branchCondition(b)}) ? (${compare(b)}) : (${expression})`;
  }
  return expression;
}
