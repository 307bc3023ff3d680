/**
 * The SealedSecret document: its shape, and reading one from an untrusted document. The
 * group may be ours or Bitnami's; the spec is the same byte for byte.
 */
import { ErrorCodes } from "../../errors.js";
import {
  failWith,
  isRecord,
  objectMeta,
  objectName,
  stringMap,
  typeAndImmutable,
  type Fail,
  type ObjectMeta,
} from "./shapes.js";

export const SEALED_SECRET_KIND = "SealedSecret";
export const GUARD_API_VERSION = "gitops-guard.io/v1alpha1";
export const BITNAMI_API_VERSION = "bitnami.com/v1alpha1";
export const SEALED_SECRET_API_VERSIONS = [GUARD_API_VERSION, BITNAMI_API_VERSION] as const;
export type SealedSecretApiVersion = (typeof SEALED_SECRET_API_VERSIONS)[number];

export interface SecretTemplate {
  readonly metadata?: ObjectMeta;
  readonly type?: string;
  readonly immutable?: boolean;
  /** Go text/template strings rendered with the decrypted values. */
  readonly data?: Readonly<Record<string, string>>;
}

export interface SealedSecret {
  readonly apiVersion: string;
  readonly kind: typeof SEALED_SECRET_KIND;
  readonly metadata: ObjectMeta & { readonly name: string };
  readonly spec: {
    readonly template?: SecretTemplate;
    readonly encryptedData: Readonly<Record<string, string>>;
    /** The deprecated v1 form: one blob of the whole Secret. Recognised only to refuse it. */
    readonly data?: string;
  };
  readonly status?: unknown;
}

function template(value: unknown, fail: Fail): SecretTemplate | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) return fail("spec.template must be a map");
  const data = stringMap(value.data, "spec.template.data", fail);
  return {
    metadata: objectMeta(value.metadata, "spec.template.metadata", fail),
    ...typeAndImmutable(value, "spec.template.", fail),
    ...(data === undefined ? {} : { data }),
  };
}

function spec(value: unknown, fail: Fail): SealedSecret["spec"] {
  if (!isRecord(value)) return fail("spec is missing");
  const encryptedData = stringMap(value.encryptedData, "spec.encryptedData", fail) ?? {};
  if (value.data !== undefined && value.data !== null && typeof value.data !== "string") {
    fail("spec.data must be a base64 string");
  }
  const tpl = template(value.template, fail);
  return {
    encryptedData,
    ...(tpl === undefined ? {} : { template: tpl }),
    ...(typeof value.data === "string" ? { data: value.data } : {}),
  };
}

/** Reads a SealedSecret of either group; `where` names the document in messages. */
export function readSealedSecret(doc: unknown, where: string): SealedSecret {
  const fail = failWith(ErrorCodes.UNSEAL_INPUT_INVALID, where);
  if (!isRecord(doc)) return fail("not a Kubernetes object");
  if (doc.kind !== SEALED_SECRET_KIND) {
    return fail(
      `is a ${typeof doc.kind === "string" ? doc.kind : "document without kind"}, not a SealedSecret`,
    );
  }
  const apiVersion = typeof doc.apiVersion === "string" ? doc.apiVersion : "";
  if (!(SEALED_SECRET_API_VERSIONS as readonly string[]).includes(apiVersion)) {
    return fail(
      `apiVersion ${JSON.stringify(apiVersion)} is neither ${SEALED_SECRET_API_VERSIONS.join(" nor ")}`,
    );
  }
  const metadata = objectMeta(doc.metadata, "metadata", fail);
  const name = metadata.name;
  if (name === undefined) return fail("metadata.name is missing");
  return {
    apiVersion,
    kind: SEALED_SECRET_KIND,
    metadata: { ...metadata, name },
    spec: spec(
      doc.spec,
      failWith(ErrorCodes.UNSEAL_INPUT_INVALID, `${where} (${objectName(metadata)})`),
    ),
    ...(doc.status === undefined ? {} : { status: doc.status }),
  };
}
