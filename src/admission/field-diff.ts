/**
 * Which fields a request changes, as RFC 6901 pointers ("/spec/replicas"). The diff is
 * fast-json-patch's compare(): linear in the object's size (arrays are compared index by index),
 * which matters on a webhook any user can send a 3 MB object to. Values are dropped at once:
 * a Secret's data must never reach a message.
 */
import jsonpatch from "fast-json-patch";
import type { AdmissionObject } from "./review-types.js";

/**
 * Server-maintained metadata and client bookkeeping: never "a change someone made". Kept here
 * (not in src/kube) because the standalone webhook must not load the kube layer at all.
 */
export const NOISE_METADATA_FIELDS = [
  "managedFields",
  "resourceVersion",
  "generation",
  "uid",
  "creationTimestamp",
  "selfLink",
] as const;
const NOISE_METADATA: ReadonlySet<string> = new Set(NOISE_METADATA_FIELDS);
export const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function withoutNoise(obj: AdmissionObject): Record<string, unknown> {
  // status: written through /status by controllers; on the main resource the API server drops it.
  const { status: _status, metadata, ...rest } = obj;
  // fromEntries, not assignment: a "__proto__" key from JSON stays an ordinary key.
  const meta = Object.fromEntries(
    Object.entries(metadata ?? {}).filter(([k]) => !NOISE_METADATA.has(k) && k !== "annotations"),
  );
  const annotations = Object.entries(metadata?.annotations ?? {}).filter(
    ([k]) => k !== LAST_APPLIED,
  );
  // Always a map, so removing the last annotation reads as that key, not "/metadata/annotations".
  return {
    ...rest,
    metadata: {
      ...meta,
      annotations: Object.fromEntries(annotations),
      labels: metadata?.labels ?? {},
    },
  };
}

/** Pointers of everything that differs between before and after, sorted. */
export function changedPointers(before: AdmissionObject, after: AdmissionObject): string[] {
  const ops = jsonpatch.compare(withoutNoise(before), withoutNoise(after));
  return [...new Set(ops.map((op) => op.path))].sort();
}

/** True when pointer is prefix itself or lies below it. */
export function isUnder(pointer: string, prefix: string): boolean {
  return pointer === prefix || pointer.startsWith(`${prefix}/`);
}

export function withoutIgnored(pointers: readonly string[], ignored: readonly string[]): string[] {
  return pointers.filter((p) => !ignored.some((prefix) => isUnder(p, prefix)));
}

/** "/metadata/annotations/gitops-guard.io~1break-glass" for an annotation key. */
export function annotationPointer(key: string): string {
  return `/metadata/annotations/${jsonpatch.escapePathComponent(key)}`;
}
