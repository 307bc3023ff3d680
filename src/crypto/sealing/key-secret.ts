/**
 * Sealing keys as Kubernetes Secrets: the kubernetes.io/tls Secrets gitops-guard keeps, and
 * Bitnami's (same shape, own label), so a Bitnami backup imports without re-encrypting
 * anything. A key-backup List of such Secrets is also what kubeseal --recovery-private-key
 * reads.
 */
import { createHash } from "node:crypto";
import { ErrorCodes, GuardError } from "../../errors.js";
import { decodeBase64, encodeBase64 } from "./base64.js";
import { keyFromPem } from "./keys.js";
import type { SealingKey } from "./keyring.js";
import { failWith, flattenLists, isRecord, objectMeta, objectName } from "./shapes.js";

/** Label of gitops-guard's key Secrets; only the value "active" loads a key. */
export const KEY_SECRET_LABEL = "gitops-guard.io/sealing-key";
/** Bitnami's key Secret label, read on import. */
export const BITNAMI_KEY_SECRET_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key";
export const ACTIVE_KEY = "active";

export interface KeySecretInput {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
}

export interface KeySecretPlace {
  readonly namespace: string;
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

// A type alias, not an interface: it stays assignable to generic object shapes.
export type KeySecret = {
  readonly apiVersion: "v1";
  readonly kind: "Secret";
  readonly metadata: { name: string; namespace: string; labels: Record<string, string> };
  readonly type: "kubernetes.io/tls";
  readonly data: { "tls.crt": string; "tls.key": string };
};

/** A stable name per key, so importing the same key twice updates one Secret. */
export function keySecretName(fingerprint: string): string {
  return `sealing-key-${createHash("sha256").update(fingerprint).digest("hex").slice(0, 10)}`;
}

export function keySecret(material: KeySecretInput, place: KeySecretPlace): KeySecret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: place.name,
      namespace: place.namespace,
      labels: { ...place.labels, [KEY_SECRET_LABEL]: ACTIVE_KEY },
    },
    type: "kubernetes.io/tls",
    data: {
      "tls.crt": encodeBase64(Buffer.from(material.certificatePem)),
      "tls.key": encodeBase64(Buffer.from(material.privateKeyPem)),
    },
  };
}

function pemField(
  data: Record<string, unknown>,
  field: string,
  fail: (p: string) => never,
): string | undefined {
  const value = data[field];
  if (value === undefined) return undefined;
  const bytes = typeof value === "string" ? decodeBase64(value) : undefined;
  return bytes === undefined ? fail(`data["${field}"] is not base64`) : bytes.toString("utf8");
}

/** The key in one key Secret (ours or Bitnami's); `source` names the file it came from. */
export function keyFromSecret(doc: unknown, source: string): SealingKey {
  const fail = failWith(ErrorCodes.KEYS_INVALID, source);
  if (!isRecord(doc) || doc.kind !== "Secret")
    return fail("expected key Secrets (kind Secret) or a List of them");
  const where = `${source}: Secret ${objectName(objectMeta(doc.metadata, "metadata", fail))}`;
  const data = isRecord(doc.data) ? doc.data : {};
  const inner = failWith(ErrorCodes.KEYS_INVALID, where);
  const privateKeyPem = pemField(data, "tls.key", inner);
  if (privateKeyPem === undefined) return inner('has no data["tls.key"]: not a sealing key Secret');
  return keyFromPem(privateKeyPem, pemField(data, "tls.crt", inner), where);
}

/** Every key in a list of documents (Secrets and Lists of Secrets). */
export function keysFromDocuments(documents: readonly unknown[], source: string): SealingKey[] {
  const keys = flattenLists(documents).map((doc) => keyFromSecret(doc, source));
  if (keys.length === 0)
    throw new GuardError(ErrorCodes.KEYS_NONE, `${source} holds no key Secrets`);
  return keys;
}
