/**
 * The pure parts of a reconcile: the Secret to apply for an unsealed SealedSecret, whether a
 * live Secret already equals it, who owns a live Secret, and which SealedSecret a Secret
 * event concerns. No values are ever put anywhere but the Secret's data.
 */
import { createHash } from "node:crypto";
import type { SealedSecret } from "../crypto/sealing/sealed-secret.js";
import type { SecretObject } from "../crypto/sealing/unseal.js";
import { keyOf, type KubeObject, type OwnerReference } from "../kube/objects.js";
import type { Condition } from "../runtime/conditions.js";
import { MANAGED_ANNOTATION, OWNED_LABEL, OWNED_VALUE, TEMPLATE_HASH_ANNOTATION } from "./names.js";

/** The SealedSecret as read from the cache: what the controller needs of it. */
export interface SealedSecretObject extends KubeObject {
  readonly status?: {
    readonly observedGeneration?: number;
    readonly conditions?: readonly Condition[];
  };
}

function sorted(record: Readonly<Record<string, string>> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function ownerUids(refs: unknown): string[] {
  return Array.isArray(refs) ? refs.map((o) => (o as OwnerReference).uid) : [];
}

/** The hash of everything in the desired Secret but the values. */
export function templateHash(secret: SecretObject): string {
  const shape = {
    labels: sorted(secret.metadata.labels),
    annotations: sorted(secret.metadata.annotations),
    type: secret.type ?? "Opaque",
    immutable: secret.immutable ?? false,
    items: Object.keys(secret.data).sort(),
    owners: ownerUids(secret.metadata["ownerReferences"]),
  };
  return createHash("sha256").update(JSON.stringify(shape)).digest("hex").slice(0, 32);
}

/**
 * The apply body: the unsealed Secret plus the template hash annotation and the owned label.
 * The hash is the template's alone, so a Secret written before the label existed keeps its
 * hash and is told apart by the missing label (secretUpToDate), which its next apply sets.
 */
export function desiredSecret(secret: SecretObject): KubeObject {
  const annotations = { ...secret.metadata.annotations };
  annotations[TEMPLATE_HASH_ANNOTATION] = templateHash(secret);
  const labels = { ...secret.metadata.labels, [OWNED_LABEL]: OWNED_VALUE };
  const type = secret.type ?? "Opaque";
  return {
    ...secret,
    type,
    metadata: { ...secret.metadata, labels, annotations },
  };
}

/**
 * A digest of a Secret's type, labels, annotations and data: tells the watch event of the controller's own
 * write (which may arrive before the write returns) from someone else's change. Only the
 * digest is kept, in memory.
 */
export function secretDigest(secret: KubeObject): string {
  const hash = secret.metadata.annotations?.[TEMPLATE_HASH_ANNOTATION] ?? "";
  const data = sorted(secret["data"] as Record<string, string> | undefined);
  return createHash("sha256")
    .update(JSON.stringify([hash, data]))
    .digest("base64");
}

function sameData(
  live: Readonly<Record<string, string>> | undefined,
  want: Readonly<Record<string, string>> | undefined,
): boolean {
  const a = live ?? {};
  const b = want ?? {};
  const keys = Object.keys(b);
  return Object.keys(a).length === keys.length && keys.every((k) => a[k] === b[k]);
}

/** True when the live Secret already is what applying desired would make it. */
export function secretUpToDate(live: KubeObject | undefined, desired: KubeObject): boolean {
  if (live === undefined || live.metadata.deletionTimestamp !== undefined) return false;
  const hash = desired.metadata.annotations?.[TEMPLATE_HASH_ANNOTATION];
  if (live.metadata.annotations?.[TEMPLATE_HASH_ANNOTATION] !== hash) return false;
  if ((live["type"] ?? "Opaque") !== desired["type"]) return false;
  const labelsOk = sorted(desired.metadata.labels).every(
    ([k, v]) => live.metadata.labels?.[k] === v,
  );
  const annotationsOk = sorted(desired.metadata.annotations).every(
    ([k, v]) => live.metadata.annotations?.[k] === v,
  );
  return (
    labelsOk &&
    annotationsOk &&
    sameData(
      live["data"] as Record<string, string> | undefined,
      desired["data"] as Record<string, string> | undefined,
    )
  );
}

/**
 * Who holds a live Secret, from the SealedSecret's point of view:
 * - absent: there is none; create it;
 * - owned: its controller is this SealedSecret (or an earlier one of the same name, whose
 *   Secret the garbage collector has not removed yet);
 * - managed: someone else's, annotated sealedsecrets.bitnami.com/managed: "true": take it over;
 * - foreign: someone else's; leave it alone.
 */
export type Ownership = "absent" | "owned" | "managed" | "foreign";

export function ownership(live: KubeObject | undefined, ss: SealedSecret): Ownership {
  if (live === undefined) return "absent";
  const controller = live.metadata.ownerReferences?.find((o) => o.controller === true);
  if (
    controller !== undefined &&
    controller.kind === ss.kind &&
    controller.apiVersion === ss.apiVersion &&
    controller.name === ss.metadata.name
  ) {
    return "owned";
  }
  return live.metadata.annotations?.[MANAGED_ANNOTATION] === "true" ? "managed" : "foreign";
}

/**
 * The SealedSecret keys a Secret event concerns: the owners named by its SealedSecret owner
 * references, and the SealedSecret of the same name (which may be waiting for a foreign
 * Secret to go away or to be marked managed).
 */
export function sealedSecretKeysFor(
  secret: KubeObject,
  apiVersion: string,
  exists: (key: string) => boolean,
): string[] {
  const namespace = secret.metadata.namespace;
  const keys = new Set<string>();
  for (const owner of secret.metadata.ownerReferences ?? []) {
    if (owner.kind === "SealedSecret" && owner.apiVersion === apiVersion) {
      keys.add(keyOf({ namespace, name: owner.name }));
    }
  }
  const same = keyOf({ namespace, name: secret.metadata.name ?? "" });
  if (exists(same)) keys.add(same);
  return [...keys];
}
