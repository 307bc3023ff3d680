/**
 * What the informers' events put on the queue. SealedSecrets map to themselves, but a status
 * write of ours does not (it would loop); Secrets map to their SealedSecret owners (and the
 * SealedSecret of their name), except the echo of a write the controller just made; key
 * Secrets of the controller's namespace feed the keyring instead.
 */
import type { Informer } from "../kube/informer.js";
import { keyOf, type KubeObject } from "../kube/objects.js";
import { isTrue } from "../runtime/conditions.js";
import type { WorkQueue } from "../runtime/queue.js";
import type { KeyStore } from "./keys.js";
import { SYNCED } from "./names.js";
import { secretDigest, type SealedSecretObject } from "./render.js";
import type { SecretWatches } from "./secret-watches.js";

/** True when a SealedSecret update may change the Secret or needs the status repaired. */
export function needsReconcile(
  obj: SealedSecretObject,
  old: SealedSecretObject | undefined,
): boolean {
  if (old === undefined) return true;
  if (obj.metadata.generation !== old.metadata.generation) return true;
  if (obj.metadata.uid !== old.metadata.uid) return true;
  // Scope annotations live in metadata and do not bump the generation.
  if (
    JSON.stringify(obj.metadata.annotations ?? {}) !==
    JSON.stringify(old.metadata.annotations ?? {})
  ) {
    return true;
  }
  // A status wiped or rolled back by someone else is repaired.
  return obj.status?.observedGeneration !== obj.metadata.generation;
}

export interface WatchWiring {
  readonly queue: WorkQueue<string>;
  readonly sealedSecrets: Informer<SealedSecretObject>;
  readonly secrets: Pick<SecretWatches, "owned" | "others">;
  /** SealedSecret key -> secretDigest of the Secret it wants. */
  readonly written: ReadonlyMap<string, string>;
  readonly ownersOf: (secret: KubeObject) => string[];
}

function selfKey(obj: KubeObject): string {
  return keyOf({ namespace: obj.metadata.namespace, name: obj.metadata.name ?? "" });
}

/** One SealedSecret kind's handlers: its SealedSecrets, and the Secrets they may own. */
export function wireHandlers(w: WatchWiring): void {
  w.sealedSecrets.on("add", (obj) => {
    w.queue.add(selfKey(obj));
  });
  w.sealedSecrets.on("update", (obj, old) => {
    if (needsReconcile(obj, old)) w.queue.add(selfKey(obj));
  });
  w.sealedSecrets.on("delete", (obj) => {
    w.queue.add(selfKey(obj));
  });
  const { owned, others } = w.secrets;
  const onOwned = (secret: KubeObject): void => {
    const digest = secretDigest(secret);
    for (const key of w.ownersOf(secret)) {
      if (w.written.get(key) !== digest) w.queue.add(key);
    }
  };
  owned.on("add", onOwned);
  owned.on("update", onOwned);
  // Leaving the owned label counts as a deletion here: the owner restores the label.
  owned.on("delete", (secret) => {
    for (const key of w.ownersOf(secret)) w.queue.add(key);
  });
  // Metadata only, and never one of the controller's own writes (they carry the label).
  others.onChange((secret) => {
    for (const key of w.ownersOf(secret)) w.queue.add(key);
  });
  // What the change watch cannot have seen (before it started, or during a gap): a Secret in
  // a SealedSecret's way deleted or marked managed.
  others.onResync(() => {
    for (const ss of w.sealedSecrets.list()) {
      if (!isTrue(ss.status?.conditions, SYNCED)) w.queue.add(selfKey(ss));
    }
  });
}

/** Key Secrets feed the keyring; keys are only ever added, so a deletion changes nothing. */
export function wireKeys(
  informers: readonly Informer[],
  keys: KeyStore,
  onKeysChanged: () => void,
): void {
  const onKey = (secret: KubeObject): void => {
    if (keys.isKeySecret(secret) && keys.addFromSecret(secret)) onKeysChanged();
  };
  for (const informer of informers) {
    informer.on("add", onKey);
    informer.on("update", onKey);
  }
}
