/**
 * metav1.LabelSelector for GuardPolicy spec.match.namespaceSelector. The admission webhook
 * evaluates the same selector (src/admission/selector.ts); components never import each other,
 * so the auditor keeps its own copy of these few lines, read from untyped policy objects.
 */

type Labels = Readonly<Record<string, string>>;

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels: Labels;
  readonly matchExpressions: readonly SelectorRequirement[];
}

/** The label the API server sets on every namespace; selectors may rely on it. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

const OPERATORS: ReadonlySet<string> = new Set(["In", "NotIn", "Exists", "DoesNotExist"]);

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function requirement(raw: unknown): SelectorRequirement | undefined {
  const r = record(raw);
  const key = r["key"];
  const operator = r["operator"];
  if (typeof key !== "string" || typeof operator !== "string" || !OPERATORS.has(operator)) {
    return undefined;
  }
  return {
    key,
    operator: operator as SelectorRequirement["operator"],
    values: strings(r["values"]),
  };
}

/**
 * The selector of a policy's spec.match.namespaceSelector, or undefined when it has none. The
 * CRD schema validates it; a malformed requirement that slipped through selects nothing, so a
 * broken policy never widens what is guarded beyond what the webhook would guard.
 */
export function parseSelector(raw: unknown): LabelSelector | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = record(raw);
  const matchLabels: Record<string, string> = {};
  for (const [key, value] of Object.entries(record(r["matchLabels"]))) {
    if (typeof value === "string") matchLabels[key] = value;
  }
  const rawExpressions = Array.isArray(r["matchExpressions"]) ? r["matchExpressions"] : [];
  const matchExpressions = rawExpressions.map(requirement);
  if (matchExpressions.some((e) => e === undefined)) {
    return { matchLabels, matchExpressions: [{ key: "", operator: "In", values: [] }] };
  }
  return {
    matchLabels,
    matchExpressions: matchExpressions.filter((e): e is SelectorRequirement => e !== undefined),
  };
}

function valueOf(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function holds(req: SelectorRequirement, labels: Labels): boolean {
  const value = valueOf(labels, req.key);
  switch (req.operator) {
    case "In":
      return value !== undefined && req.values.includes(value);
    case "NotIn":
      return value === undefined || !req.values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
  }
}

/** All of matchLabels and matchExpressions hold; an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  return (
    Object.entries(selector.matchLabels).every(([k, v]) => valueOf(labels, k) === v) &&
    selector.matchExpressions.every((req) => holds(req, labels))
  );
}
