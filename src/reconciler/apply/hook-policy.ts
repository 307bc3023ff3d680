/**
 * Hook delete policies (Argo CD's names; Helm's map onto them) and the release a hook runs for.
 * A hook with a policy runs once per release: the revision and chart a sync applies. It carries
 * the release in an annotation, so a sync (after a restart too) can tell a hook already run for
 * this release from one left by an earlier release, which BeforeHookCreation deletes first.
 */
import { createHash } from "node:crypto";
import { ErrorCodes, GuardError } from "../../errors.js";
import type { DesiredObject } from "../desired.js";
import type { HelmReleaseStatus } from "../gitsync.js";
import { HOOK_DELETE_POLICY_ANNOTATION, HOOK_RELEASE_ANNOTATION } from "../names.js";
import { locate } from "../render/manifests.js";

export type HookPhase = "PreSync" | "PostSync";
export type DeletePolicy = "BeforeHookCreation" | "HookSucceeded" | "HookFailed";

const POLICIES: ReadonlySet<string> = new Set([
  "BeforeHookCreation",
  "HookSucceeded",
  "HookFailed",
]);

/** The object's delete policies; an unknown one is an error naming the file. */
export function deletePolicies(obj: DesiredObject): ReadonlySet<DeletePolicy> {
  const text = obj.object.metadata.annotations?.[HOOK_DELETE_POLICY_ANNOTATION];
  if (text === undefined) return new Set();
  const found = text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  const unknown = found.find((p) => !POLICIES.has(p));
  if (unknown !== undefined) {
    throw new GuardError(
      ErrorCodes.RENDER_OBJECT_INVALID,
      `${locate(obj)}: ${HOOK_DELETE_POLICY_ANNOTATION} ${JSON.stringify(unknown)} on ` +
        `${obj.ref.kind} ${obj.ref.name}: use BeforeHookCreation, HookSucceeded or HookFailed`,
    );
  }
  return new Set(found as DeletePolicy[]);
}

/** Deleted once it succeeds: not kept in the cluster, so not healed, watched or health-checked. */
export function isEphemeralHook(obj: DesiredObject): boolean {
  return deletePolicies(obj).has("HookSucceeded");
}

/** The release a sync applies: its revision, and for a chart, chart and values. */
export function releaseOf(revision: string, helm: HelmReleaseStatus | undefined): string {
  const text = JSON.stringify([revision, helm ?? null]);
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** The hook with the release it runs for, when it has a delete policy; others unchanged. */
export function withRelease(obj: DesiredObject, release: string): DesiredObject {
  if (deletePolicies(obj).size === 0) return obj;
  const { metadata } = obj.object;
  const annotations = { ...metadata.annotations, [HOOK_RELEASE_ANNOTATION]: release };
  return { ...obj, object: { ...obj.object, metadata: { ...metadata, annotations } } };
}

/** The release a live hook ran for (undefined: it has none). */
export function releaseOfLive(
  annotations: Readonly<Record<string, string>> | undefined,
): string | undefined {
  return annotations?.[HOOK_RELEASE_ANNOTATION];
}
