import { createHash } from "node:crypto";
import type { KubeObject, ObjectRef } from "../../kube/objects.js";

/** What the last apply of an object sent, and the resourceVersion the server answered with. */
export interface LastApply {
  readonly resourceVersion: string;
  /** Digest of the body sent (see sentDigest). */
  readonly sent: string;
}

/** The watch cache's copy of an object, or undefined when it is not (yet) known there. */
export type CachedReader = (ref: ObjectRef) => KubeObject | undefined;

/**
 * A digest of an apply body and who sent it: equal bodies sent as the same identity give equal
 * digests (render output is ordered). actingAs is the user the apply impersonated (a GitSync's
 * service account), absent for the reconciler's own identity: once a GitSync's account changes,
 * nothing counts as unchanged, so every object is sent again and the new account's rights decide.
 */
export function sentDigest(body: KubeObject, actingAs?: string): string {
  const hash = createHash("sha256");
  if (actingAs !== undefined) hash.update(`as ${actingAs}\n`);
  return hash.update(JSON.stringify(body)).digest("base64url");
}

/**
 * The cached live object when applying `sent` again cannot change anything: we sent exactly this
 * body last time, and the object has not moved since the server answered it (same
 * resourceVersion in the watch cache). A change the cache has not seen yet arrives as a watch
 * event, which self-heal acts on; a cache that lags behind our own apply shows an older
 * resourceVersion, and the object is applied.
 */
export function unchangedLive(
  ref: ObjectRef,
  sent: string,
  last: LastApply | undefined,
  cached: CachedReader | undefined,
): KubeObject | undefined {
  if (last === undefined || cached === undefined || last.sent !== sent) return undefined;
  const live = cached(ref);
  return live?.metadata.resourceVersion === last.resourceVersion ? live : undefined;
}
