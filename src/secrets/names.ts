/** The fixed names the secrets controller reads and writes. */
import {
  BITNAMI_API_VERSION,
  GUARD_API_VERSION,
  SEALED_SECRET_KIND,
} from "../crypto/sealing/sealed-secret.js";

export const SEALED_SECRET = { apiVersion: GUARD_API_VERSION, kind: SEALED_SECRET_KIND } as const;
/** Reconciled only with the bitnami opt-in (SecretsOptions.bitnami). */
export const BITNAMI_SEALED_SECRET = {
  apiVersion: BITNAMI_API_VERSION,
  kind: SEALED_SECRET_KIND,
} as const;
export type SealedSecretType = typeof SEALED_SECRET | typeof BITNAMI_SEALED_SECRET;
export const SECRET = { apiVersion: "v1", kind: "Secret" } as const;

/** An existing Secret with this annotation set to "true" is taken over (Bitnami's rule). */
export const MANAGED_ANNOTATION = "sealedsecrets.bitnami.com/managed";
/**
 * SHA-256 of the non-secret parts of the desired Secret (labels, annotations, type,
 * immutable, item names): tells an up-to-date Secret from one whose template changed, across
 * restarts, without holding any value.
 */
export const TEMPLATE_HASH_ANNOTATION = "gitops-guard.io/sealed-secret-template";

/**
 * Every Secret the controller writes carries OWNED_LABEL=OWNED_VALUE (set by its server-side
 * apply), so it can watch those with their data and every other Secret as metadata only. The
 * label is a filter, not a claim: ownership is the Secret's controller owner reference.
 */
export const OWNED_LABEL = "gitops-guard.io/managed-by";
export const OWNED_VALUE = "sealedsecrets";

/** The controller name in metrics and Events. */
export const CONTROLLER = "sealedsecrets";
export const EVENT_SOURCE = "gitops-guard-secrets";

export const SYNCED = "Synced";

/** Condition reasons (CamelCase) and the matching Event reasons. */
export const REASONS = {
  unsealed: "Unsealed",
  unsealFailed: "UnsealFailed",
  invalid: "InvalidSpec",
  notOwned: "SecretNotOwned",
  writeFailed: "UpdateFailed",
} as const;
export type Reason = (typeof REASONS)[keyof typeof REASONS];
