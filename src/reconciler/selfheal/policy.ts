import { groupOf, type KubeObject } from "../../kube/objects.js";

/** One spec.ignoreFields rule of a GitSync (the same shape as GuardPolicy's). */
export interface IgnoreRule {
  readonly apiGroups: readonly string[];
  readonly kinds: readonly string[];
  readonly jsonPointers: readonly string[];
}

export const BREAK_GLASS_ANNOTATION = "gitops-guard.io/break-glass";
export const BREAK_GLASS_EXPIRES_ANNOTATION = "gitops-guard.io/break-glass-expires";
export const REPLICAS_POINTER = "/spec/replicas";

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** spec.ignoreFields of a GitSync; malformed entries are skipped (the CRD schema rejects them). */
export function parseIgnoreRules(spec: Record<string, unknown> | undefined): IgnoreRule[] {
  const raw = spec?.["ignoreFields"];
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((item: unknown) => {
    if (typeof item !== "object" || item === null) return [];
    const rule = item as Record<string, unknown>;
    const apiGroups = strings(rule["apiGroups"]);
    return [
      {
        apiGroups: apiGroups.length === 0 ? ["*"] : apiGroups,
        kinds: strings(rule["kinds"]),
        jsonPointers: strings(rule["jsonPointers"]),
      },
    ];
  });
}

/** The pointers the rules ignore for an object of this apiVersion and kind. Pure. */
export function ignoredPointers(
  rules: readonly IgnoreRule[],
  type: { readonly apiVersion: string; readonly kind: string },
): string[] {
  const group = groupOf(type.apiVersion);
  return rules
    .filter((r) => r.apiGroups.some((g) => g === "*" || g === group))
    .filter((r) => r.kinds.some((k) => k === "*" || k === type.kind))
    .flatMap((r) => r.jsonPointers);
}

interface ScaleTarget {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly name?: string;
}

/** True when one of the HorizontalPodAutoscalers scales this object. Pure. */
export function scaledByHpa(hpas: readonly KubeObject[], obj: KubeObject): boolean {
  return hpas.some((hpa) => {
    if (hpa.metadata.namespace !== obj.metadata.namespace) return false;
    const spec = hpa["spec"] as { scaleTargetRef?: ScaleTarget } | undefined;
    const target = spec?.scaleTargetRef;
    return (
      target?.kind === obj.kind &&
      target.name === obj.metadata.name &&
      groupOf(target.apiVersion ?? "") === groupOf(obj.apiVersion)
    );
  });
}

/**
 * When an active break-glass on the live object ends (ms since the epoch), or undefined when
 * there is none: both annotations set and the expiry in the future. An expiry that does not
 * parse is no break-glass at all (the webhook refuses one; healing must not stop for it).
 */
export function breakGlassUntil(live: KubeObject | undefined, now: number): number | undefined {
  const annotations = live?.metadata.annotations ?? {};
  const reason = annotations[BREAK_GLASS_ANNOTATION];
  const expires = annotations[BREAK_GLASS_EXPIRES_ANNOTATION];
  if (reason === undefined || reason === "" || expires === undefined) return undefined;
  const until = Date.parse(expires);
  return Number.isFinite(until) && until > now ? until : undefined;
}
