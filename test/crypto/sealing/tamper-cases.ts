/**
 * The tamper matrix of issue 4, shared by the unit tests (values we sealed) and the kubeseal
 * compatibility tests (values kubeseal sealed): each change must be refused with its own code
 * and a message that says what happened, never with a crash or a generic error.
 */
import { ErrorCodes, type ErrorCode } from "../../../src/errors.js";
import { CLUSTER_WIDE_ANNOTATION } from "../../../src/crypto/sealing/scope.js";

type Doc = Record<string, unknown>;
interface Meta {
  name: string;
  namespace?: string;
  annotations?: Record<string, string>;
}
interface SealedDoc extends Doc {
  metadata: Meta;
  spec: { encryptedData: Record<string, string>; template?: { metadata?: Meta } };
}

/** SealedSecrets made by one tool; every one holds "password" and "user". */
export interface SealedSet {
  /** prod/db, strict. */
  readonly strict: Doc;
  /** prod/db, cluster-wide. */
  readonly clusterWide: Doc;
  /** prod/api, strict, same key. */
  readonly otherObject: Doc;
  /** prod/db, strict, sealed with a key the keyring does not hold. */
  readonly otherKey: Doc;
}

export interface TamperCase {
  readonly name: string;
  readonly make: (set: SealedSet) => Doc;
  readonly code: ErrorCode;
  readonly message: RegExp;
  /** Other objects in reach, for the diagnosis. */
  readonly otherObjects?: readonly { namespace: string; name: string }[];
}

function copy(doc: Doc): SealedDoc {
  return structuredClone(doc) as SealedDoc;
}

function withMeta(doc: Doc, change: (meta: Meta) => void): Doc {
  const out = copy(doc);
  change(out.metadata);
  return out;
}

/** Changes the bytes of the "password" value. */
function withValue(doc: Doc, change: (bytes: Buffer) => Buffer | string): Doc {
  const out = copy(doc);
  const bytes = Buffer.from(out.spec.encryptedData.password ?? "", "base64");
  const changed = change(Buffer.from(bytes));
  out.spec.encryptedData.password =
    typeof changed === "string" ? changed : changed.toString("base64");
  return out;
}

function flip(at: (length: number) => number): (bytes: Buffer) => Buffer {
  return (bytes) => {
    const i = at(bytes.length);
    bytes[i] = (bytes[i] ?? 0) ^ 0x01;
    return bytes;
  };
}

function removeScope(meta: Meta | undefined): void {
  if (meta?.annotations === undefined) return;
  meta.annotations = Object.fromEntries(
    Object.entries(meta.annotations).filter(([k]) => k !== CLUSTER_WIDE_ANNOTATION),
  );
}

export const TAMPER_CASES: readonly TamperCase[] = [
  {
    name: "renamed object",
    make: (s: SealedSet): Doc => withMeta(s.strict, (m) => (m.name = "db-renamed")),
    code: ErrorCodes.UNSEAL_SCOPE_MISMATCH,
    message:
      /sealed for "prod\/db" \(strict scope\), but this SealedSecret expects "prod\/db-renamed" \(strict scope\): was it renamed\?/,
  },
  {
    name: "moved namespace",
    make: (s: SealedSet): Doc => withMeta(s.strict, (m) => (m.namespace = "staging")),
    code: ErrorCodes.UNSEAL_SCOPE_MISMATCH,
    message: /sealed for "prod\/db".*expects "staging\/db".*moved to another namespace\?/,
  },
  {
    name: "scope annotation removed",
    make: (s: SealedSet): Doc => {
      const out = copy(s.clusterWide);
      removeScope(out.metadata);
      removeScope(out.spec.template?.metadata);
      return out;
    },
    code: ErrorCodes.UNSEAL_SCOPE_MISMATCH,
    message:
      /sealed for any namespace \(cluster-wide scope\).*expects "prod\/db" \(strict scope\): was its cluster-wide scope annotation removed\?/,
  },
  {
    name: "scope set only in the template",
    make: (s: SealedSet): Doc => withMeta(s.clusterWide, removeScope),
    code: ErrorCodes.UNSEAL_SCOPE_MISMATCH,
    message: /cluster-wide annotation is only in spec\.template\.metadata\.annotations/,
  },
  {
    name: "scope annotation widened",
    make: (s: SealedSet): Doc =>
      withMeta(
        s.strict,
        (m) => (m.annotations = { ...m.annotations, [CLUSTER_WIDE_ANNOTATION]: "true" }),
      ),
    code: ErrorCodes.UNSEAL_SCOPE_MISMATCH,
    message: /sealed for "prod\/db" \(strict scope\).*widened to cluster-wide after sealing/,
  },
  {
    name: "bit flip in the RSA block",
    make: (s: SealedSet): Doc =>
      withValue(
        s.strict,
        flip(() => 100),
      ),
    code: ErrorCodes.UNSEAL_NO_KEY,
    message:
      /value "password" cannot be opened: none of the 1 keys held \(SHA256:[^)]+\) opens it, while the other values of this object open with SHA256:/,
  },
  {
    name: "bit flip in the AES data",
    make: (s: SealedSet): Doc =>
      withValue(
        s.strict,
        flip((n) => n - 17),
      ),
    code: ErrorCodes.UNSEAL_TAMPERED,
    message:
      /value "password" was altered after sealing: the key opens its RSA block, but the AES-GCM data or tag fails authentication/,
  },
  {
    name: "bit flip in the tag",
    make: (s: SealedSet): Doc =>
      withValue(
        s.strict,
        flip((n) => n - 1),
      ),
    code: ErrorCodes.UNSEAL_TAMPERED,
    message: /value "password" was altered after sealing/,
  },
  {
    name: "bit flip in the length prefix",
    make: (s: SealedSet): Doc =>
      withValue(
        s.strict,
        flip(() => 1),
      ),
    code: ErrorCodes.UNSEAL_BAD_LENGTH_PREFIX,
    message:
      /value "password" has a corrupt length prefix: it announces a 513-byte RSA block, but the keys held use 512 bytes \(RSA-4096\)/,
  },
  {
    name: "truncation",
    make: (s: SealedSet): Doc => withValue(s.strict, (b) => b.subarray(0, 400)),
    code: ErrorCodes.UNSEAL_TRUNCATED,
    message:
      /value "password" is truncated: it ends inside the RSA block \(400 bytes, at least 530 needed\)/,
  },
  {
    name: "bad base64",
    make: (s: SealedSet): Doc =>
      withValue(
        s.strict,
        (b) => `${b.toString("base64").slice(0, 40)}!${b.toString("base64").slice(41)}`,
      ),
    code: ErrorCodes.UNSEAL_BAD_BASE64,
    message:
      /value "password" is not valid base64 \(standard alphabet, padded\): bad input at offset 40/,
  },
  {
    name: "value spliced in from another secret",
    make: (s: SealedSet): Doc => {
      const out = copy(s.strict);
      out.spec.encryptedData.password = copy(s.otherObject).spec.encryptedData.password ?? "";
      return out;
    },
    code: ErrorCodes.UNSEAL_FOREIGN_VALUE,
    message:
      /value "password" belongs to another object: key SHA256:\S+ opens its RSA block, but it was sealed for a name, namespace or scope other than this SealedSecret's "prod\/db" \(strict scope\), label "prod\/db": was it copied from another SealedSecret\?/,
  },
  {
    name: "value spliced in from another secret in reach",
    make: (s: SealedSet): Doc => {
      const out = copy(s.strict);
      out.spec.encryptedData.password = copy(s.otherObject).spec.encryptedData.password ?? "";
      return out;
    },
    otherObjects: [{ namespace: "prod", name: "api" }],
    code: ErrorCodes.UNSEAL_SCOPE_MISMATCH,
    message:
      /value "password" was sealed for "prod\/api" \(strict scope\).*was it copied from SealedSecret prod\/api\?/,
  },
  {
    name: "the wrong key",
    make: (s: SealedSet): Doc => s.otherKey,
    code: ErrorCodes.UNSEAL_NO_KEY,
    message:
      /values "password", "user" cannot be opened: none of the 1 keys held \(SHA256:\S+\) opens it: it was sealed with another controller's certificate/,
  },
];
