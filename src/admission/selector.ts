/** metav1.LabelSelector semantics: all of matchLabels and matchExpressions must hold. */
import type { LabelSelector, LabelSelectorRequirement } from "./policy-types.js";

type Labels = Readonly<Record<string, string>>;

function valueOf(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function holds(req: LabelSelectorRequirement, labels: Labels): boolean {
  const value = valueOf(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
  }
}

/** An empty selector matches everything, as in Kubernetes. */
export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  const pairs = Object.entries(selector.matchLabels ?? {});
  return (
    pairs.every(([k, v]) => valueOf(labels, k) === v) &&
    (selector.matchExpressions ?? []).every((req) => holds(req, labels))
  );
}
