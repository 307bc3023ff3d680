/**
 * gitops-guard's Events that become journal records of their own (kube/event-contract.ts):
 * the webhook's denials (admission-denied), and the secrets controller's Unsealed
 * (secret-materialised) and KeyGenerated (key-rotated). An Event that breaks the contract is
 * ignored, never a crash: anyone allowed to write Events can write a malformed one.
 *
 * What goes into a record is what the contract carries: identities, kinds and names, field
 * paths, key fingerprints and times. Changed fields must look like JSON pointers, so even an
 * Event written by hand cannot smuggle a value into the journal through them.
 */
import {
  ADMISSION_EVENT_ANNOTATIONS,
  DENIED_ACTION,
  EVENT_REPORTERS,
  SECRETS_EVENT_ANNOTATIONS,
  SECRETS_EVENT_REASONS,
} from "../../kube/event-contract.js";
import type { KubeObject } from "../../kube/objects.js";
import type { FieldChange, JournalEntry, JournalObject } from "../journal/record.js";
import { str, stringList, userOf } from "./admission-events.js";

/** An Event the journal should hold once. */
export interface EventRecordCandidate {
  /** metadata.creationTimestamp: the API server's clock, whole seconds. */
  readonly createdMs: number;
  /** The record, its `event` naming the Event (uid: the exactly-once key). */
  readonly entry: JournalEntry & { readonly event: NonNullable<JournalEntry["event"]> };
}

export interface JournalEventOptions {
  /** The secrets controller's namespace: key Secrets live there, and only there. */
  readonly keyNamespace: string;
}

type Body = Omit<JournalEntry, "event">;
type Fields = Readonly<Record<string, unknown>>;

const MAX_FIELDS = 100;
const MAX_KEYS = 20;
const POINTER = /^(\/[^\n]{0,512}|\(create\)|\(delete\))$/;
const FINGERPRINT = /^[A-Za-z0-9:+/=_-]{1,128}$/;

function fieldsOf(value: unknown): Fields {
  return typeof value === "object" && value !== null ? (value as Fields) : {};
}

/** regarding or related as a journal object: needs apiVersion, kind and name. */
function objectOf(ref: Fields): JournalObject | undefined {
  const apiVersion = str(ref["apiVersion"]);
  const kind = str(ref["kind"]);
  const name = str(ref["name"]);
  if (apiVersion === undefined || kind === undefined || name === undefined) return undefined;
  const namespace = str(ref["namespace"]);
  const uid = str(ref["uid"]);
  return {
    apiVersion,
    kind,
    ...(namespace === undefined ? {} : { namespace }),
    name,
    ...(uid === undefined ? {} : { uid }),
  };
}

function place(obj: JournalObject): string {
  return obj.namespace === undefined ? obj.name : `${obj.namespace}/${obj.name}`;
}

function opOf(operation: string | undefined): FieldChange["op"] {
  if (operation === "CREATE") return "add";
  return operation === "DELETE" ? "remove" : "replace";
}

/**
 * A denial: who tried what on which object, under which policy. The diff lists the paths the
 * request tried to change (a denied request changed nothing), with no values: the Event has none.
 */
function denied(event: KubeObject): Body | undefined {
  const a = ADMISSION_EVENT_ANNOTATIONS;
  const annotations = event.metadata.annotations ?? {};
  const object = objectOf(fieldsOf(event["regarding"]));
  const username = annotations[a.user];
  if (object === undefined || username === undefined || username === "") return undefined;
  const operation = annotations[a.operation];
  const policy = annotations[a.policy];
  const reason = annotations[a.decision] ?? str(event["reason"]);
  const fields = stringList(annotations[a.changedFields]).filter((p) => POINTER.test(p));
  const by = policy === undefined ? "" : ` by GuardPolicy ${policy}`;
  return {
    type: "admission-denied",
    object,
    user: userOf(annotations, username),
    diff: fields.slice(0, MAX_FIELDS).map((path) => ({ path, op: opOf(operation) })),
    ...(reason === undefined ? {} : { reason }),
    message: `${operation ?? "request"} denied${by}`,
  };
}

function fingerprints(text: string | undefined): string[] {
  return stringList(text)
    .filter((f) => FINGERPRINT.test(f))
    .slice(0, MAX_KEYS);
}

/** A Secret written from a SealedSecret: the Secret (related), which SealedSecret, which keys. */
function materialised(event: KubeObject): Body | undefined {
  const a = SECRETS_EVENT_ANNOTATIONS;
  const annotations = event.metadata.annotations ?? {};
  const secret = objectOf(fieldsOf(event["related"]));
  const sealed = objectOf(fieldsOf(event["regarding"]));
  if (secret?.kind !== "Secret" || secret.apiVersion !== "v1" || sealed === undefined) {
    return undefined;
  }
  const write = annotations[a.write] === "created" ? "created" : "updated";
  const keys = fingerprints(annotations[a.keys]);
  const opened = keys.length === 0 ? "" : `, opened with key ${keys.join(", ")}`;
  const manager = annotations[a.fieldManager];
  return {
    type: "secret-materialised",
    object: secret,
    ...(manager === undefined ? {} : { fieldManagers: [manager] }),
    message: `${write} from ${sealed.kind} ${place(sealed)} (${sealed.apiVersion})${opened}`,
  };
}

/** A new sealing key: its Secret, fingerprint and validity; never anything of the key itself. */
function keyGenerated(event: KubeObject, options: JournalEventOptions): Body | undefined {
  const a = SECRETS_EVENT_ANNOTATIONS;
  const annotations = event.metadata.annotations ?? {};
  const secret = objectOf(fieldsOf(event["regarding"]));
  const fingerprint = annotations[a.fingerprint];
  if (secret?.kind !== "Secret" || secret.namespace !== options.keyNamespace) return undefined;
  if (fingerprint === undefined || !FINGERPRINT.test(fingerprint)) return undefined;
  const trigger = annotations[a.trigger] ?? "unknown trigger";
  const from = annotations[a.notBefore] ?? "?";
  const to = annotations[a.notAfter] ?? "?";
  return {
    type: "key-rotated",
    object: secret,
    message: `sealing key ${fingerprint} generated (${trigger}), certificate valid from ${from} to ${to}`,
  };
}

function bodyOf(event: KubeObject, options: JournalEventOptions): Body | undefined {
  const reporter = event["reportingController"];
  if (reporter === EVENT_REPORTERS.admission) {
    return event["action"] === DENIED_ACTION ? denied(event) : undefined;
  }
  if (reporter !== EVENT_REPORTERS.secrets) return undefined;
  if (event["reason"] === SECRETS_EVENT_REASONS.unsealed) return materialised(event);
  if (event["reason"] === SECRETS_EVENT_REASONS.keyGenerated) return keyGenerated(event, options);
  return undefined;
}

/** The record an Event of the contract stands for, or undefined for any other Event. */
export function journalEntryOfEvent(
  event: KubeObject,
  options: JournalEventOptions,
): EventRecordCandidate | undefined {
  const { uid, name, namespace, creationTimestamp } = event.metadata;
  const createdMs = creationTimestamp === undefined ? Number.NaN : Date.parse(creationTimestamp);
  if (uid === undefined || name === undefined || Number.isNaN(createdMs)) return undefined;
  const body = bodyOf(event, options);
  if (body === undefined) return undefined;
  return { createdMs, entry: { ...body, event: { namespace: namespace ?? "", name, uid } } };
}
