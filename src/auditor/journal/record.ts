import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/** What the journal records; DESIGN.md "Audit journal". */
export const JOURNAL_TYPES = [
  "admission-denied",
  "break-glass",
  "drift-detected",
  "drift-healed",
  "secret-materialised",
  "key-rotated",
  "policy-changed",
] as const;
export type JournalType = (typeof JOURNAL_TYPES)[number];

export interface JournalObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
  /**
   * metadata.resourceVersion of the state a drift record is about (for a deletion, the last
   * state): a restart that finds a change of that state kept knows it was journaled.
   */
  readonly resourceVersion?: string;
  /** metadata.generation when recorded (GuardPolicies: what a restart compares with). */
  readonly generation?: number;
}

/** One changed field. For Secrets, from/to hold only a digest (secretValueDigest), never a value. */
export interface FieldChange {
  readonly path: string;
  readonly op: "add" | "remove" | "replace";
  readonly from?: unknown;
  readonly to?: unknown;
}

/** What a caller appends; the journal adds seq, time and the chain. */
export interface JournalEntry {
  readonly type: JournalType;
  readonly object?: JournalObject;
  /**
   * Who made the change or request. uid: the authenticator's UID for the user, when one was
   * known (absent from older records: a record without it hashes as it always did).
   */
  readonly user?: {
    readonly username: string;
    readonly groups: readonly string[];
    readonly uid?: string;
  };
  /** Where user came from (drift records): admission, audit-webhook, or managedFields only. */
  readonly userSource?: "admission" | "audit-webhook" | "managedFields";
  readonly fieldManagers?: readonly string[];
  readonly diff?: readonly FieldChange[];
  readonly gitSync?: { readonly namespace: string; readonly name: string };
  readonly revision?: string;
  readonly reason?: string;
  readonly message?: string;
  /**
   * The Kubernetes Event the record was made from (admission-denied, secret-materialised,
   * key-rotated): its uid keeps the journal to one record per Event across restarts.
   */
  readonly event?: { readonly namespace: string; readonly name: string; readonly uid: string };
  /**
   * The API server's audit ID of the request a record was made from (admission-denied by a
   * compiled ValidatingAdmissionPolicy, which leaves no Event): one record per request across
   * restarts and redelivered audit batches.
   */
  readonly auditId?: string;
}

export interface JournalRecord extends JournalEntry {
  readonly seq: number;
  /** RFC 3339, from the journal's clock. */
  readonly time: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** The chain head: enough to anchor every record before it in an outside store. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** The previous hash of the first record. */
export const GENESIS_HASH = "0".repeat(64);

/** The hashed part of a record: everything but the hashes, in RFC 8785 canonical JSON. */
export function recordBody(record: Omit<JournalRecord, "prevHash" | "hash">): string {
  const body = canonicalize(record);
  if (body === undefined) throw new TypeError("journal record is not JSON");
  return body;
}

/** SHA-256 over the previous hash and this record's canonical body. */
export function chainHash(prevHash: string, body: string): string {
  return createHash("sha256").update(prevHash).update("\n").update(body).digest("hex");
}

/** The form a Secret's value takes in the journal, alerts and logs: a digest, never the value. */
export function secretValueDigest(value: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(value).digest("hex")}`;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** True when every value in the diff of a Secret is a digest (or absent). */
export function secretDiffIsSafe(entry: JournalEntry): boolean {
  if (entry.object?.kind !== "Secret") return true;
  return (entry.diff ?? []).every(
    (change) =>
      (change.from === undefined ||
        (typeof change.from === "string" && DIGEST.test(change.from))) &&
      (change.to === undefined || (typeof change.to === "string" && DIGEST.test(change.to))),
  );
}
