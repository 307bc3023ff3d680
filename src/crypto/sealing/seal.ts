/**
 * Sealing a Secret into a SealedSecret, as `kubeseal` does it: every data and stringData
 * item is encrypted on its own (stringData wins a clash) with the label of the Secret's
 * scope; the template keeps the Secret's metadata minus what the server owns and what would
 * leak (kubectl's last-applied-configuration holds the plaintext).
 */
import type { KeyObject } from "node:crypto";
import { ErrorCodes, GuardError } from "../../errors.js";
import { decodeBase64, encodeBase64 } from "./base64.js";
import { hybridEncrypt } from "./hybrid.js";
import { GUARD_API_VERSION, SEALED_SECRET_KIND, type SealedSecret } from "./sealed-secret.js";
import { scopeOf, sealingLabel, withScopeAnnotations, type Scope } from "./scope.js";
import {
  failWith,
  isRecord,
  objectMeta,
  sortedRecord,
  stringMap,
  typeAndImmutable,
  type Fail,
  type JsonRecord,
  type ObjectMeta,
} from "./shapes.js";

export interface SecretInput {
  readonly metadata: ObjectMeta;
  readonly type?: string;
  readonly immutable?: boolean;
  /** Every item to seal, raw bytes; stringData already merged over data. */
  readonly items: ReadonlyMap<string, Buffer>;
}

function itemsOf(doc: JsonRecord, fail: Fail): Map<string, Buffer> {
  const items = new Map<string, Buffer>();
  for (const [key, text] of Object.entries(stringMap(doc.data, "data", fail) ?? {})) {
    const bytes = decodeBase64(text);
    if (bytes === undefined)
      fail(`data.${key} is not valid base64 (use stringData for plain text)`);
    else items.set(key, bytes);
  }
  for (const [key, text] of Object.entries(stringMap(doc.stringData, "stringData", fail) ?? {})) {
    items.set(key, Buffer.from(text, "utf8"));
  }
  return items;
}

/** Reads a v1 Secret from an untrusted document; `where` names it in messages. */
export function readSecret(doc: unknown, where: string): SecretInput {
  const fail = failWith(ErrorCodes.SEAL_INPUT_INVALID, where);
  if (!isRecord(doc)) return fail("not a Kubernetes object");
  if (doc.kind !== "Secret") {
    const kind = typeof doc.kind === "string" ? doc.kind : "document without kind";
    return fail(`is a ${kind}, not a Secret`);
  }
  return {
    metadata: objectMeta(doc.metadata, "metadata", fail),
    items: itemsOf(doc, fail),
    ...typeAndImmutable(doc, "", fail),
  };
}

export interface SealOptions {
  readonly publicKey: KeyObject;
  /** A scope to force; absent, the Secret's own scope annotations decide (kubeseal's default). */
  readonly scope?: Scope;
  /** Replaces the Secret's name (kubeseal --name, --merge-into). */
  readonly name?: string;
  /** Replaces the Secret's namespace (--merge-into: the target file's). */
  readonly namespace?: string;
  /** A namespace the user gave (-n): it fills a missing one, and contradicting it is an error. */
  readonly namespaceFlag?: string;
  /** Fills a missing namespace when no flag was given (the kubeconfig context's). */
  readonly defaultNamespace?: string;
  readonly allowEmptyData?: boolean;
  readonly apiVersion?: string;
}

const LAST_APPLIED = [
  "kubectl.kubernetes.io/last-applied-configuration",
  "kubecfg.ksonnet.io/last-applied-configuration",
];
const SERVER_FIELDS = [
  "uid",
  "resourceVersion",
  "selfLink",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "ownerReferences",
];

function resolveNamespace(
  meta: ObjectMeta,
  scope: Scope,
  options: SealOptions,
): string | undefined {
  const given = options.namespace ?? meta.namespace;
  if (scope === "cluster-wide") return given;
  const flag = options.namespaceFlag;
  if (flag !== undefined && given !== undefined && given !== flag) {
    throw new GuardError(
      ErrorCodes.SEAL_NAMESPACE_MISMATCH,
      `namespace mismatch: the Secret ${given}/${meta.name ?? ""} is in namespace "${given}" ` +
        `but -n "${flag}" was given`,
    );
  }
  return given ?? flag ?? options.defaultNamespace;
}

/** The template's metadata: the Secret's, placed where it is sealed for, minus server fields. */
function templateMeta(
  meta: ObjectMeta,
  where: { name: string; namespace?: string },
  annotations: Record<string, string>,
): ObjectMeta {
  const { name: _name, namespace: _namespace, annotations: _annotations, ...copy } = meta;
  const rest = Object.fromEntries(Object.entries(copy).filter(([f]) => !SERVER_FIELDS.includes(f)));
  const kept = Object.entries(annotations).filter(([k]) => !LAST_APPLIED.includes(k));
  return {
    ...where,
    ...rest,
    ...(kept.length === 0 ? {} : { annotations: Object.fromEntries(kept) }),
  };
}

function checkSealable(
  secret: SecretInput,
  name: string | undefined,
  options: SealOptions,
): string {
  if (secret.items.size === 0 && options.allowEmptyData !== true) {
    throw new GuardError(
      ErrorCodes.SEAL_INPUT_INVALID,
      "the Secret has no data or stringData; assuming a mistake (--allow-empty-data seals it anyway)",
    );
  }
  if (name === undefined || name === "") {
    throw new GuardError(
      ErrorCodes.SEAL_INPUT_INVALID,
      "the Secret has no metadata.name (give --name)",
    );
  }
  return name;
}

interface Placement {
  readonly name: string;
  readonly namespace?: string;
  readonly scope: Scope;
  /** The Secret's annotations with the scope ones as sealed. */
  readonly annotations: Record<string, string>;
}

function placement(secret: SecretInput, options: SealOptions): Placement {
  const name = checkSealable(secret, options.name ?? secret.metadata.name, options);
  const inputAnnotations = secret.metadata.annotations ?? {};
  // Like kubeseal, only a non-default scope rewrites the annotations the Secret already has.
  const annotations =
    options.scope === undefined || options.scope === "strict"
      ? { ...inputAnnotations }
      : withScopeAnnotations(inputAnnotations, options.scope);
  const scope = scopeOf(annotations);
  const namespace = resolveNamespace(secret.metadata, scope, options);
  if (namespace === undefined && scope !== "cluster-wide") {
    throw new GuardError(
      ErrorCodes.SEAL_INPUT_INVALID,
      `the Secret ${name} has no namespace; give -n, or seal it --scope cluster-wide`,
    );
  }
  return { name, scope, annotations, ...(namespace === undefined ? {} : { namespace }) };
}

export function sealSecret(secret: SecretInput, options: SealOptions): SealedSecret {
  const { name, namespace, scope, annotations } = placement(secret, options);
  const label = sealingLabel(scope, namespace ?? "", name);
  const encryptedData: Record<string, string> = {};
  for (const [key, value] of secret.items) {
    encryptedData[key] = encodeBase64(hybridEncrypt(options.publicKey, value, label));
  }
  const where = { name, ...(namespace === undefined ? {} : { namespace }) };
  const scopeAnnotations = withScopeAnnotations({}, scope);
  const hasScope = Object.keys(scopeAnnotations).length > 0;
  return {
    apiVersion: options.apiVersion ?? GUARD_API_VERSION,
    kind: SEALED_SECRET_KIND,
    metadata: { ...where, ...(hasScope ? { annotations: scopeAnnotations } : {}) },
    spec: {
      template: {
        metadata: templateMeta(secret.metadata, where, annotations),
        ...(secret.type === undefined ? {} : { type: secret.type }),
        ...(secret.immutable === undefined ? {} : { immutable: secret.immutable }),
      },
      encryptedData: sortedRecord(encryptedData),
    },
  };
}

/** One value for --raw: sealed for scope/namespace/name without any Secret around it. */
export function sealRawValue(
  publicKey: KeyObject,
  value: Uint8Array,
  scope: Scope,
  place: { namespace: string; name: string },
): string {
  return encodeBase64(
    hybridEncrypt(publicKey, value, sealingLabel(scope, place.namespace, place.name)),
  );
}

/**
 * Items sealed for an existing SealedSecret (kubeseal --merge-into): under the label its own
 * metadata implies, so the merged values open wherever its other values open.
 */
export function sealItemsFor(
  target: SealedSecret,
  items: ReadonlyMap<string, Uint8Array>,
  publicKey: KeyObject,
): Record<string, string> {
  const { namespace = "", name } = target.metadata;
  const label = sealingLabel(scopeOf(target.metadata.annotations), namespace, name);
  const out: Record<string, string> = {};
  for (const [key, value] of items) out[key] = encodeBase64(hybridEncrypt(publicKey, value, label));
  return sortedRecord(out);
}
