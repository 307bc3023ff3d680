/**
 * The Secrets the secrets controller watches, each with only what it reads:
 *
 * - key Secrets: the controller's namespace, one informer per key label (ours, Bitnami's),
 *   with their data, which the keyring is made of;
 * - owned Secrets (OWNED_LABEL=OWNED_VALUE, which every write of the controller sets): an
 *   informer with their data, since a reconcile compares the live Secret with the one it wants
 *   and tells the echo of its own write from someone's edit by a digest of the data;
 * - every other Secret (OWNED_LABEL!=OWNED_VALUE, the exact complement): their changes only,
 *   as metadata, with no list and no cache (secret-changes.ts). That is enough to requeue the
 *   SealedSecret a change concerns: a Secret of its name deleted or annotated managed, or an
 *   owned Secret whose label was removed (the owned informer also sees it leave, as a
 *   deletion) or that was written before the label existed, then edited.
 *
 * The label decides how much is cached, not who owns a Secret: anyone who may edit a Secret
 * may change its labels, so ownership is read from the owner references of the Secret a
 * reconcile reads, and a Secret the owned cache lacks is read from the API server.
 */
import {
  ACTIVE_KEY,
  BITNAMI_KEY_SECRET_LABEL,
  KEY_SECRET_LABEL,
} from "../crypto/sealing/key-secret.js";
import type { KubeClient } from "../kube/client.js";
import { Informer } from "../kube/informer.js";
import type { KubeObject } from "../kube/objects.js";
import type { Clock } from "../runtime/clock.js";
import { OWNED_LABEL, OWNED_VALUE, SECRET } from "./names.js";
import { SecretChanges } from "./secret-changes.js";

export interface SecretWatchesOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  /** The controller's namespace: where the key Secrets are. */
  readonly keyNamespace: string;
  /** Owned and other Secrets of this namespace only; default every namespace. */
  readonly watchNamespace?: string;
  /** An informer failed and restarts (after its backoff). */
  readonly onError: (err: unknown, attempt: number) => void;
}

/** What a reconcile reads of Secrets. */
export interface SecretReader {
  /** The live Secret of that name, with its data; undefined when there is none. */
  live(name: string, namespace: string): Promise<KubeObject | undefined>;
}

export interface SecretWatches extends SecretReader {
  /** One per key label, in the controller's namespace, with data. */
  readonly keys: readonly Informer[];
  /** The Secrets labelled as the controller's, with data. */
  readonly owned: Informer;
  /** Changes to every other Secret, metadata only, nothing kept. */
  readonly others: SecretChanges;
  start(): void;
  stop(): Promise<void>;
  /** Resolves once every informer listed and the change watch started (or when they stop). */
  waitForSync(): Promise<void>;
  synced(): boolean;
}

/** A cached Secret with data: managedFields (often larger than the data) is never read. */
function withoutManagedFields(obj: KubeObject): KubeObject {
  delete obj.metadata.managedFields;
  return obj;
}

/** The watches, not started; start() starts them, stop() ends them. */
export function secretWatches(opts: SecretWatchesOptions): SecretWatches {
  const base = { client: opts.client, clock: opts.clock, onError: opts.onError };
  const scope = opts.watchNamespace === undefined ? {} : { namespace: opts.watchNamespace };
  const keys = [KEY_SECRET_LABEL, BITNAMI_KEY_SECRET_LABEL].map(
    (label) =>
      new Informer({
        ...base,
        type: SECRET,
        namespace: opts.keyNamespace,
        labelSelector: `${label}=${ACTIVE_KEY}`,
        transform: withoutManagedFields,
      }),
  );
  const owned = new Informer({
    ...base,
    ...scope,
    type: SECRET,
    labelSelector: `${OWNED_LABEL}=${OWNED_VALUE}`,
    transform: withoutManagedFields,
  });
  const others = new SecretChanges({
    ...base,
    ...scope,
    labelSelector: `${OWNED_LABEL}!=${OWNED_VALUE}`,
  });
  const all = [...keys, owned, others];
  return {
    keys,
    owned,
    others,
    start() {
      for (const watch of all) watch.start();
    },
    async stop() {
      await Promise.all(all.map((watch) => watch.stop()));
    },
    async waitForSync() {
      await Promise.all(all.map((watch) => watch.waitForSync()));
    },
    synced: () => all.every((watch) => watch.synced()),
    async live(name, namespace) {
      // Not labelled as the controller's (not yet, or not any more), or absent: ask.
      return owned.get(name, namespace) ?? opts.client.get({ ...SECRET, namespace, name });
    },
  };
}
