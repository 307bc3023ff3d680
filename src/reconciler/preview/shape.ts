/**
 * What a sync would really apply for one object: Git's manifest without the ignored fields
 * that differ on the live object (spec.ignoreFields, and /spec/replicas where a
 * HorizontalPodAutoscaler scales the object), as the reconciler's own syncs do. Without this,
 * `diff` would show changes a sync never makes. Pure.
 */
import type { KubeObject } from "../../kube/objects.js";
import { covers, driftedPaths, withoutPointers } from "../selfheal/drift.js";
import {
  ignoredPointers,
  REPLICAS_POINTER,
  scaledByHpa,
  type IgnoreRule,
} from "../selfheal/policy.js";

export interface ShapeInputs {
  readonly rules: readonly IgnoreRule[];
  readonly hpas: readonly KubeObject[];
}

export function syncedShape(
  desired: KubeObject,
  live: KubeObject | undefined,
  inputs: ShapeInputs,
): KubeObject {
  if (live === undefined) return desired;
  const ignore = ignoredPointers(inputs.rules, live);
  if (scaledByHpa(inputs.hpas, live)) ignore.push(REPLICAS_POINTER);
  const ignored = driftedPaths(desired, live).filter((p) => ignore.some((i) => covers(i, p)));
  return ignored.length === 0 ? desired : withoutPointers(desired, ignored);
}
