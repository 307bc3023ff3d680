import type { KubeObject } from "../../kube/objects.js";
import { secretValueDigest } from "../journal/record.js";

/** Metadata the API server writes on every change: never drift (Argo CD and Flux strip the same). */
const SERVER_METADATA = [
  "resourceVersion",
  "managedFields",
  "generation",
  "uid",
  "creationTimestamp",
  "selfLink",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
] as const;

/** Annotations that controllers or clients maintain by themselves, not people. */
const SERVER_ANNOTATIONS = [
  "kubectl.kubernetes.io/last-applied-configuration",
  "deployment.kubernetes.io/revision",
] as const;

/** One Secret value as the journal may hold it: base64 data decoded, then digested. */
function digestData(data: unknown, encoding: "base64" | "utf8"): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof data !== "object" || data === null) return out;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (typeof value !== "string") continue;
    out[key] = secretValueDigest(Buffer.from(value, encoding));
  }
  return out;
}

/**
 * Secret values become digests of their bytes: stringData (as Git may say) and data (as the
 * API server stores it) then compare equal, and no value survives normalisation.
 */
function digestSecret(obj: Record<string, unknown>): void {
  const data = {
    ...digestData(obj["data"], "base64"),
    ...digestData(obj["stringData"], "utf8"),
  };
  delete obj["stringData"];
  if (Object.keys(data).length > 0 || "data" in obj) obj["data"] = data;
}

function without(
  record: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key)));
}

function stripMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  const kept = without(metadata, SERVER_METADATA);
  const annotations = kept["annotations"];
  if (typeof annotations !== "object" || annotations === null) return kept;
  const rest = without(annotations as Record<string, unknown>, SERVER_ANNOTATIONS);
  if (Object.keys(rest).length === 0) delete kept["annotations"];
  else kept["annotations"] = rest;
  return kept;
}

/**
 * The comparable form of an object: a deep copy without status and server-set metadata, with
 * Secret values replaced by digests. Pure; the input is not changed.
 */
export function normalizeObject(obj: KubeObject): Record<string, unknown> {
  const copy = structuredClone(obj) as Record<string, unknown>;
  delete copy["status"];
  const metadata = copy["metadata"];
  if (typeof metadata === "object" && metadata !== null) {
    copy["metadata"] = stripMetadata(metadata as Record<string, unknown>);
  }
  if (obj.kind === "Secret" && (obj.apiVersion === "v1" || obj.apiVersion === "")) {
    digestSecret(copy);
  }
  return copy;
}
