/**
 * The deprecated v1 form of a SealedSecret: spec.data holds the whole Secret, serialized as
 * JSON and sealed as one value. Bitnami's controller still opens it by default, so the
 * bitnami.com/v1alpha1 opt-in does too. The sealed Secret's own metadata, type and data are
 * used; its name and namespace are forced to the SealedSecret's, and the ownerReference is set
 * as for the current form. The CLI never opens it (kubeseal --recovery-unseal does not either).
 */
import { ErrorCodes, GuardError } from "../../errors.js";
import { decodeBase64, firstBadBase64Offset } from "./base64.js";
import { diagnose } from "./diagnose.js";
import { explain } from "./explain.js";
import { splitSealedValue } from "./hybrid.js";
import type { SealedSecret } from "./sealed-secret.js";
import { sealingLabel } from "./scope.js";
import { objectName, sortedRecord, type ObjectMeta } from "./shapes.js";
import {
  objectPlace,
  ownerReferencesFor,
  placesFor,
  type UnsealedSecret,
  type UnsealOptions,
} from "./unseal.js";

// Kubernetes' protobuf encoding starts with these four bytes.
const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
// Fields the API server owns: never carried from an old serialized Secret into a new one.
const SERVER_FIELDS = ["uid", "resourceVersion", "creationTimestamp", "managedFields", "selfLink"];

interface DecodedSecret {
  readonly metadata: Record<string, unknown>;
  readonly type?: string;
  readonly data: Record<string, string>;
}

function invalid(ss: SealedSecret, why: string): GuardError {
  return new GuardError(
    ErrorCodes.UNSEAL_INPUT_INVALID,
    `SealedSecret ${objectName(ss.metadata)}: spec.data ${why}`,
  );
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function decodeSecret(ss: SealedSecret, plaintext: Buffer): DecodedSecret {
  if (plaintext.subarray(0, 4).equals(PROTOBUF_MAGIC)) {
    throw invalid(ss, "holds a protobuf-encoded Secret; only the JSON encoding is supported");
  }
  let doc: Record<string, unknown>;
  try {
    doc = record(JSON.parse(plaintext.toString("utf8")) as unknown);
  } catch {
    throw invalid(ss, "opens, but does not hold a JSON-encoded Secret");
  }
  const data = record(doc["data"]);
  for (const [key, value] of Object.entries(data)) {
    if (typeof value !== "string" || decodeBase64(value) === undefined) {
      throw invalid(ss, `opens, but its Secret's data.${key} is not base64`);
    }
  }
  const type = typeof doc["type"] === "string" ? doc["type"] : undefined;
  return {
    metadata: record(doc["metadata"]),
    data: data as Record<string, string>,
    ...(type === undefined ? {} : { type }),
  };
}

function openBlob(ss: SealedSecret, options: UnsealOptions): { plaintext: Buffer; key: string } {
  if (Object.keys(ss.spec.encryptedData).length > 0) {
    throw new GuardError(
      ErrorCodes.UNSEAL_DEPRECATED_V1,
      `SealedSecret ${objectName(ss.metadata)} has both spec.data and spec.encryptedData; ` +
        "only one is allowed",
    );
  }
  const text = ss.spec.data ?? "";
  const bytes = decodeBase64(text);
  if (bytes === undefined) {
    throw new GuardError(
      ErrorCodes.UNSEAL_BAD_BASE64,
      `SealedSecret ${objectName(ss.metadata)}: spec.data is not valid base64 (bad input at ` +
        `offset ${String(firstBadBase64Offset(text))})`,
    );
  }
  const { keyring } = options;
  const parts = splitSealedValue(bytes, keyring.blockSizes());
  const object = objectPlace(ss);
  const opened = keyring.open(parts, sealingLabel(object.scope, object.namespace, object.name));
  if (opened !== undefined) return { plaintext: opened.plaintext, key: opened.fingerprint };
  const fingerprints = keyring.keys().map((k) => k.fingerprint);
  const why = explain(
    diagnose(keyring, parts, placesFor(ss, options.otherObjects)),
    object,
    fingerprints,
    [],
  );
  throw new GuardError(
    why.code,
    `SealedSecret ${objectName(ss.metadata)}: spec.data ${why.message}`,
  );
}

export function unsealV1(ss: SealedSecret, options: UnsealOptions): UnsealedSecret {
  const { plaintext, key } = openBlob(ss, options);
  const decoded = decodeSecret(ss, plaintext);
  const kept = Object.fromEntries(
    Object.entries(decoded.metadata).filter(([field]) => !SERVER_FIELDS.includes(field)),
  );
  const metadata: ObjectMeta = {
    ...kept,
    name: ss.metadata.name,
    ...(ss.metadata.namespace === undefined ? {} : { namespace: ss.metadata.namespace }),
    ...ownerReferencesFor(ss, options.ownerUid),
  };
  const values = new Map(
    Object.entries(decoded.data).map(([k, v]) => [k, decodeBase64(v) ?? Buffer.alloc(0)]),
  );
  return {
    secret: {
      apiVersion: "v1",
      kind: "Secret",
      metadata,
      ...(decoded.type === undefined ? {} : { type: decoded.type }),
      data: sortedRecord(decoded.data),
    },
    values,
    openedWith: new Map([...values.keys()].map((k) => [k, key])),
  };
}
