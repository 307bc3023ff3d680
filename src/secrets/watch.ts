/**
 * What the informers' events put on the queue. SealedSecrets map to themselves, but a status
 * write of ours does not (it would loop); Secrets map to their SealedSecret owners, except
 * the echo of a write the controller just made; key Secrets of the controller's namespace
 * feed the keyring instead.
 */
import type { Informer } from "../kube/informer.js";
import { keyOf, type KubeObject } from "../kube/objects.js";
import type { WorkQueue } from "../runtime/queue.js";
import type { KeyStore } from "./keys.js";
import { secretDigest, type SealedSecretObject } from "./render.js";

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
  readonly secrets: Informer;
  readonly keys: KeyStore;
  /** SealedSecret key -> secretDigest of the Secret it wants. */
  readonly written: ReadonlyMap<string, string>;
  readonly onKeysChanged: () => void;
  readonly ownersOf: (secret: KubeObject) => string[];
}

function selfKey(obj: KubeObject): string {
  return keyOf({ namespace: obj.metadata.namespace, name: obj.metadata.name ?? "" });
}

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
  const onSecret = (secret: KubeObject): void => {
    if (w.keys.isKeySecret(secret)) {
      if (w.keys.addFromSecret(secret)) w.onKeysChanged();
      return;
    }
    const digest = secretDigest(secret);
    for (const key of w.ownersOf(secret)) {
      if (w.written.get(key) !== digest) w.queue.add(key);
    }
  };
  w.secrets.on("add", onSecret);
  w.secrets.on("update", onSecret);
  w.secrets.on("delete", (secret) => {
    for (const key of w.ownersOf(secret)) w.queue.add(key);
  });
}
