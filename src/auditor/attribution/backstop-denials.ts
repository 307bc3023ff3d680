/**
 * Denials by gitops-guard's compiled ValidatingAdmissionPolicies (the backstop), read from the
 * API server's audit events. The API server runs those policies before webhooks, so a request
 * they deny never reaches the webhook and leaves no Deny Event: the audit annotation the
 * binding's Audit action adds is its only trace. A webhook denial carries no such annotation
 * from our policies, so the two sources never describe the same request.
 *
 * Ours are recognised by name, never by message text: backstopName() in
 * src/admission/vap/compile.ts names the policy and its binding alike (components do not import
 * each other; test/auditor/backstop-denials.test.ts checks the two agree). An annotation that is
 * not JSON, or not the documented shape, is ignored, never a crash.
 */
import { createHash } from "node:crypto";
import type { JournalEntry } from "../journal/record.js";
import type { UserFact } from "./facts.js";

/** Kubernetes' audit annotation: a JSON array of {message, policy, binding, expressionIndex, validationActions}. */
export const VALIDATION_FAILURE_ANNOTATION =
  "validation.policy.admission.k8s.io/validation_failure";
/** backstopName(policy) is this prefix and the GuardPolicy's name. */
export const BACKSTOP_PREFIX = "gitops-guard-";
export const BACKSTOP_DENIED_REASON = "BackstopDenied";
/** As the webhook's Deny Events (src/admission/denial-repeats.ts): one record a window. */
export const REPEAT_WINDOW_MS = 10 * 60_000;
const MESSAGE_MAX = 1024;

const OPERATIONS: Readonly<Record<string, BackstopDenial["operation"]>> = {
  create: "CREATE",
  update: "UPDATE",
  patch: "UPDATE",
  delete: "DELETE",
};

interface AuditUserView {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
}

/** The parts of a validated audit.k8s.io/v1 Event read here. */
export interface AuditEventView {
  readonly auditID: string;
  readonly stage: string;
  readonly verb: string;
  readonly requestURI?: string;
  readonly requestReceivedTimestamp: string;
  readonly user: AuditUserView;
  readonly impersonatedUser?: AuditUserView;
  readonly objectRef?: {
    readonly resource?: string;
    readonly subresource?: string;
    readonly namespace?: string;
    readonly name?: string;
    readonly apiGroup?: string;
    readonly apiVersion?: string;
  };
  readonly annotations?: Readonly<Record<string, unknown>>;
}

/** A request one of our backstops denied; the object's kind is resolved later (discovery). */
export interface BackstopDenial {
  readonly auditId: string;
  readonly receivedMs: number;
  readonly user: UserFact;
  readonly operation: "CREATE" | "UPDATE" | "DELETE";
  /** group/version, or the version for the core group. */
  readonly apiVersion: string;
  readonly resource: string;
  readonly namespace?: string;
  readonly name: string;
  readonly guardPolicy: string;
  /** The ValidatingAdmissionPolicy (and binding) name. */
  readonly backstop: string;
  /** What the policy told the user. */
  readonly message: string;
}

/** A journal entry made from a backstop denial: its auditId is the exactly-once key. */
export type BackstopEntry = JournalEntry & { readonly auditId: string };

interface Failure {
  readonly message: string;
  readonly policy: string;
}

function isDenyingFailure(value: unknown): value is Failure {
  if (typeof value !== "object" || value === null) return false;
  const f = value as Record<string, unknown>;
  const actions = f["validationActions"];
  return (
    typeof f["message"] === "string" &&
    typeof f["policy"] === "string" &&
    f["binding"] === f["policy"] &&
    Array.isArray(actions) &&
    actions.includes("Deny")
  );
}

/** The first denying failure of one of our backstops, or undefined. */
function ourFailure(text: unknown): Failure | undefined {
  if (typeof text !== "string") return undefined;
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  return list.find(
    (f): f is Failure =>
      isDenyingFailure(f) &&
      f.policy.startsWith(BACKSTOP_PREFIX) &&
      f.policy.length > BACKSTOP_PREFIX.length,
  );
}

/** kubectl --dry-run=server and kubectl diff: dryRun=All in the query; they change nothing. */
function isDryRun(requestURI: string | undefined): boolean {
  const query = requestURI?.split("?", 2)[1];
  if (query === undefined) return false;
  return new URLSearchParams(query).getAll("dryRun").some((v) => v !== "");
}

function deniedObject(
  event: AuditEventView,
): Pick<BackstopDenial, "apiVersion" | "resource" | "namespace" | "name"> | undefined {
  const ref = event.objectRef;
  if (ref?.resource === undefined || ref.name === undefined || ref.apiVersion === undefined) {
    return undefined;
  }
  const group = ref.apiGroup ?? "";
  return {
    apiVersion: group === "" ? ref.apiVersion : `${group}/${ref.apiVersion}`,
    resource: ref.resource,
    ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
    name: ref.name,
  };
}

/** The denial an audit event reports, or undefined when none of our backstops denied it. */
export function backstopDenialOf(event: AuditEventView): BackstopDenial | undefined {
  const operation = OPERATIONS[event.verb];
  if (event.stage !== "ResponseComplete" || operation === undefined) return undefined;
  const failure = ourFailure(event.annotations?.[VALIDATION_FAILURE_ANNOTATION]);
  const object = deniedObject(event);
  const receivedMs = Date.parse(event.requestReceivedTimestamp);
  if (failure === undefined || object === undefined || Number.isNaN(receivedMs)) return undefined;
  if (isDryRun(event.requestURI)) return undefined;
  // An impersonated request acts as the impersonated user, and the policy judged that user.
  const user = event.impersonatedUser ?? event.user;
  return {
    auditId: event.auditID,
    receivedMs,
    user: { username: user.username, groups: [...(user.groups ?? [])] },
    operation,
    ...object,
    guardPolicy: failure.policy.slice(BACKSTOP_PREFIX.length),
    backstop: failure.policy,
    message: failure.message,
  };
}

/** The admission-denied record of a denial, given its object's kind. */
export function backstopEntry(denial: BackstopDenial, kind: string): BackstopEntry {
  const head = `${denial.operation} denied by GuardPolicy ${denial.guardPolicy} (ValidatingAdmissionPolicy ${denial.backstop})`;
  const text = `${head}: ${denial.message}`;
  return {
    type: "admission-denied",
    object: {
      apiVersion: denial.apiVersion,
      kind,
      ...(denial.namespace === undefined ? {} : { namespace: denial.namespace }),
      name: denial.name,
    },
    user: denial.user,
    // The audit event names no fields (Metadata level has no bodies), and a denial changed none.
    diff: [],
    reason: BACKSTOP_DENIED_REASON,
    message: text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX - 3)}...` : text,
    auditId: denial.auditId,
  };
}

/**
 * The repeat a record stands for: the same user, object and message (which names the operation
 * and the GuardPolicy) in the same window. Computed alike from a new entry and from a record
 * read back from the journal, so a restart keeps the window.
 */
export function repeatKey(entry: JournalEntry, timeMs: number): string {
  const o = entry.object;
  const bucket = Math.floor(timeMs / REPEAT_WINDOW_MS);
  const parts = [entry.user?.username, o?.apiVersion, o?.kind, o?.namespace, o?.name];
  const repeat = JSON.stringify([...parts, entry.reason, entry.message, bucket]);
  return createHash("sha256").update(repeat).digest("hex").slice(0, 32);
}
