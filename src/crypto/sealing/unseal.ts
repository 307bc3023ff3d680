/**
 * Opening a SealedSecret into the Secret it stands for, as Bitnami's controller does: the
 * label comes from the SealedSecret's own metadata (not the template), name and namespace
 * are forced to the SealedSecret's, template.data is rendered with the decrypted values, and
 * one bad item fails the whole object. Unlike Bitnami, each failure says why (explain.ts).
 */
import { ErrorCodes, GuardError, type ErrorCode } from "../../errors.js";
import { decodeBase64, encodeBase64, firstBadBase64Offset } from "./base64.js";
import { diagnose, type Place } from "./diagnose.js";
import { explain, type ObjectPlace } from "./explain.js";
import { splitSealedValue, type SealedParts } from "./hybrid.js";
import type { Keyring } from "./keyring.js";
import type { SealedSecret } from "./sealed-secret.js";
import { scopeOf, sealingLabel, SCOPES } from "./scope.js";
import { objectName, sortedRecord, type ObjectMeta } from "./shapes.js";
import { renderTemplate } from "./template.js";
import { unsealV1 } from "./unseal-v1.js";

export const SKIP_OWNER_REFERENCES_ANNOTATION =
  "sealedsecrets.bitnami.com/skip-set-owner-references";

export interface UnsealOptions {
  readonly keyring: Keyring;
  /** Objects a value may have been copied from, named in the diagnosis when it matches. */
  readonly otherObjects?: readonly { readonly namespace: string; readonly name: string }[];
  /** The SealedSecret's uid: the Secret then gets a controller ownerReference to it. */
  readonly ownerUid?: string;
  /**
   * Open the deprecated v1 form (spec.data: the whole Secret sealed as one value), as Bitnami's
   * controller does by default. Only for bitnami.com/v1alpha1 objects; never for the CLI.
   */
  readonly acceptV1Data?: boolean;
}

export interface SecretObject {
  readonly apiVersion: "v1";
  readonly kind: "Secret";
  readonly metadata: ObjectMeta;
  readonly type?: string;
  readonly immutable?: boolean;
  /** base64, as in any Secret. */
  readonly data: Readonly<Record<string, string>>;
}

export interface UnsealedSecret {
  readonly secret: SecretObject;
  /** The plaintext of each item (rendered template items included). */
  readonly values: ReadonlyMap<string, Buffer>;
  /** Which key opened each encrypted item: shows what still depends on an old key. */
  readonly openedWith: ReadonlyMap<string, string>;
}

export interface ItemFailure {
  readonly key: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** The other SealedSecrets of one input, as UnsealOptions.otherObjects for `self`. */
export function neighboursOf(
  all: readonly SealedSecret[],
  self: SealedSecret,
): { namespace: string; name: string }[] {
  return all
    .filter((o) => o !== self)
    .map((o) => ({ namespace: o.metadata.namespace ?? "", name: o.metadata.name }));
}

/** The places a value of `ss` may have been sealed for, other than where it is now. */
export function placesFor(ss: SealedSecret, others: UnsealOptions["otherObjects"] = []): Place[] {
  const here = { namespace: ss.metadata.namespace ?? "", name: ss.metadata.name };
  const template = ss.spec.template?.metadata;
  const original = {
    namespace: template?.namespace ?? here.namespace,
    name: template?.name ?? here.name,
  };
  const at = (where: { namespace: string; name: string }, origin: string): Place[] =>
    SCOPES.map((scope) => ({ scope, ...where, origin }));
  return [
    ...at(here, "this SealedSecret"),
    ...at(original, "spec.template.metadata"),
    ...others.flatMap((o) => at(o, `SealedSecret ${o.namespace}/${o.name}`)),
  ];
}

export function objectPlace(ss: SealedSecret): ObjectPlace {
  return {
    scope: scopeOf(ss.metadata.annotations),
    namespace: ss.metadata.namespace ?? "",
    name: ss.metadata.name,
    templateScope: scopeOf(ss.spec.template?.metadata?.annotations),
  };
}

function refuseV1(ss: SealedSecret): void {
  if (ss.spec.data === undefined) return;
  const both = Object.keys(ss.spec.encryptedData).length > 0;
  throw new GuardError(
    ErrorCodes.UNSEAL_DEPRECATED_V1,
    `SealedSecret ${objectName(ss.metadata)} ` +
      (both
        ? "has both spec.data and spec.encryptedData; only encryptedData is allowed"
        : "uses the deprecated v1 form (spec.data, one blob for the whole Secret), which is not " +
          "opened here, as kubeseal --recovery-unseal does not: have Bitnami's controller " +
          "re-encrypt it into spec.encryptedData (kubeseal --re-encrypt), or seal it again"),
  );
}

function splitItem(
  key: string,
  text: string,
  sizes: ReadonlySet<number>,
): SealedParts | ItemFailure {
  const bytes = decodeBase64(text);
  if (bytes === undefined) {
    const offset = firstBadBase64Offset(text);
    const message = `is not valid base64 (standard alphabet, padded): bad input at offset ${offset}`;
    return { key, code: ErrorCodes.UNSEAL_BAD_BASE64, message };
  }
  try {
    return splitSealedValue(bytes, sizes);
  } catch (err: unknown) {
    if (err instanceof GuardError) return { key, code: err.code, message: err.message };
    throw err;
  }
}

function isFailure(value: SealedParts | ItemFailure): value is ItemFailure {
  return "code" in value;
}

interface Opened {
  readonly values: Map<string, Buffer>;
  readonly openedWith: Map<string, string>;
  readonly failures: ItemFailure[];
}

function openItems(ss: SealedSecret, options: UnsealOptions): Opened {
  const { keyring } = options;
  const object = objectPlace(ss);
  const label = sealingLabel(object.scope, object.namespace, object.name);
  const opened: Opened = { values: new Map(), openedWith: new Map(), failures: [] };
  const unopened: [string, SealedParts][] = [];
  const sizes = keyring.blockSizes();
  for (const [key, text] of Object.entries(ss.spec.encryptedData)) {
    const parts = splitItem(key, text, sizes);
    if (isFailure(parts)) {
      opened.failures.push(parts);
      continue;
    }
    try {
      const value = keyring.open(parts, label);
      if (value === undefined) unopened.push([key, parts]);
      else {
        opened.values.set(key, value.plaintext);
        opened.openedWith.set(key, value.fingerprint);
      }
    } catch (err: unknown) {
      if (!(err instanceof GuardError)) throw err;
      opened.failures.push({ key, code: err.code, message: err.message });
    }
  }
  // The diagnosis below runs only for values that did not open.
  if (unopened.length === 0) return opened;
  const siblings = [...new Set(opened.openedWith.values())];
  const fingerprints = keyring.keys().map((k) => k.fingerprint);
  const places = placesFor(ss, options.otherObjects);
  for (const [key, parts] of unopened) {
    const { code, message } = explain(
      diagnose(keyring, parts, places),
      object,
      fingerprints,
      siblings,
    );
    opened.failures.push({ key, code, message });
  }
  return opened;
}

function renderItems(ss: SealedSecret, opened: Opened): void {
  for (const [key, source] of Object.entries(ss.spec.template?.data ?? {})) {
    try {
      opened.values.set(key, renderTemplate(source, opened.values));
    } catch (err: unknown) {
      if (!(err instanceof GuardError)) throw err;
      opened.failures.push({ key, code: err.code, message: err.message });
    }
  }
}

/** One error for all failed items; identical reasons are listed once. */
function failure(ss: SealedSecret, failures: readonly ItemFailure[], total: number): GuardError {
  const codes = new Set(failures.map((f) => f.code));
  const [code] = codes.size === 1 ? [...codes] : [ErrorCodes.UNSEAL_FAILED];
  const byMessage = new Map<string, string[]>();
  for (const f of [...failures].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    byMessage.set(f.message, [...(byMessage.get(f.message) ?? []), JSON.stringify(f.key)]);
  }
  const reasons = [...byMessage].map(([message, keys]) => {
    return `${keys.length === 1 ? "value" : "values"} ${keys.join(", ")} ${message}`;
  });
  const counted = failures.length === 1 ? "" : `${failures.length} of ${total} items fail: `;
  return new GuardError(
    code ?? ErrorCodes.UNSEAL_FAILED,
    `SealedSecret ${objectName(ss.metadata)}: ${counted}${reasons.join("; ")}`,
    {
      details: {
        object: objectName(ss.metadata),
        items: failures.map((f) => ({ key: f.key, code: f.code })),
      },
    },
  );
}

/** The controller ownerReference a Secret gets, unless the template says to skip it. */
export function ownerReferencesFor(
  ss: SealedSecret,
  ownerUid: string | undefined,
): { readonly ownerReferences?: readonly Record<string, unknown>[] } {
  const skipOwner =
    ss.spec.template?.metadata?.annotations?.[SKIP_OWNER_REFERENCES_ANNOTATION] === "true";
  if (ownerUid === undefined || skipOwner) return {};
  const owner = {
    apiVersion: ss.apiVersion,
    kind: ss.kind,
    name: ss.metadata.name,
    uid: ownerUid,
    controller: true,
  };
  return { ownerReferences: [owner] };
}

function secretMetadata(ss: SealedSecret, ownerUid: string | undefined): ObjectMeta {
  const { name: _name, namespace: _namespace, ...template } = ss.spec.template?.metadata ?? {};
  const owner = ownerReferencesFor(ss, ownerUid);
  return {
    name: ss.metadata.name,
    ...(ss.metadata.namespace === undefined ? {} : { namespace: ss.metadata.namespace }),
    ...template,
    ...owner,
  };
}

export interface OpenedItems {
  /** The plaintext of each encryptedData item. */
  readonly values: ReadonlyMap<string, Buffer>;
  readonly openedWith: ReadonlyMap<string, string>;
}

export interface ItemKeys {
  /** Which key opens each encryptedData item, by fingerprint. */
  readonly openedWith: ReadonlyMap<string, string>;
  /** The items no key opens, each with the reason. */
  readonly failures: readonly ItemFailure[];
}

/**
 * Which key each encryptedData item is sealed for, and why the others do not open; the
 * plaintexts are dropped. Throws only for an object in the deprecated v1 form.
 */
export function sealedItemKeys(ss: SealedSecret, options: UnsealOptions): ItemKeys {
  refuseV1(ss);
  const { openedWith, failures } = openItems(ss, options);
  return { openedWith, failures };
}

/** Opens the encryptedData items only (no template): what re-encryption needs. */
export function openSealedItems(ss: SealedSecret, options: UnsealOptions): OpenedItems {
  refuseV1(ss);
  const opened = openItems(ss, options);
  const total = Object.keys(ss.spec.encryptedData).length;
  if (opened.failures.length > 0) throw failure(ss, opened.failures, total);
  return { values: opened.values, openedWith: opened.openedWith };
}

/** Opens every item; throws one GuardError that explains each item that failed. */
export function unsealSealedSecret(ss: SealedSecret, options: UnsealOptions): UnsealedSecret {
  if (options.acceptV1Data === true && ss.spec.data !== undefined) return unsealV1(ss, options);
  refuseV1(ss);
  const opened = openItems(ss, options);
  renderItems(ss, opened);
  const total =
    Object.keys(ss.spec.encryptedData).length + Object.keys(ss.spec.template?.data ?? {}).length;
  if (opened.failures.length > 0) throw failure(ss, opened.failures, total);
  const data = Object.fromEntries(
    [...opened.values].map(([key, value]) => [key, encodeBase64(value)]),
  );
  const template = ss.spec.template;
  return {
    secret: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: secretMetadata(ss, options.ownerUid),
      ...(template?.type === undefined ? {} : { type: template.type }),
      ...(template?.immutable === undefined ? {} : { immutable: template.immutable }),
      data: sortedRecord(data),
    },
    values: opened.values,
    openedWith: opened.openedWith,
  };
}
