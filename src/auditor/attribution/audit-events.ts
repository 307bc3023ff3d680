/**
 * audit.k8s.io/v1 EventList from the API server's audit webhook backend. Validated with ajv
 * before use; only who, what and when are kept. The request and response bodies an audit
 * policy may include (Secrets among them) are never copied, logged or stored: only the written
 * object's resourceVersion is read from the response.
 */
import { Ajv, type ValidateFunction } from "ajv";
import { compact } from "../compact.js";
import type { AuditFact } from "./facts.js";

const STRING = { type: "string" } as const;

const EVENT_SCHEMA = {
  type: "object",
  required: ["auditID", "stage", "verb", "user", "requestReceivedTimestamp"],
  properties: {
    auditID: STRING,
    stage: STRING,
    verb: STRING,
    requestReceivedTimestamp: STRING,
    stageTimestamp: STRING,
    user: {
      type: "object",
      required: ["username"],
      properties: { username: STRING, groups: { type: "array", items: STRING } },
    },
    impersonatedUser: {
      type: "object",
      required: ["username"],
      properties: { username: STRING, groups: { type: "array", items: STRING } },
    },
    objectRef: {
      type: "object",
      properties: {
        resource: STRING,
        subresource: STRING,
        namespace: STRING,
        name: STRING,
        apiGroup: STRING,
        apiVersion: STRING,
        resourceVersion: STRING,
      },
    },
    responseStatus: { type: "object", properties: { code: { type: "integer" } } },
  },
} as const;

const EVENT_LIST_SCHEMA = {
  type: "object",
  required: ["apiVersion", "kind", "items"],
  properties: {
    apiVersion: { const: "audit.k8s.io/v1" },
    kind: { const: "EventList" },
    items: { type: "array", maxItems: 100_000, items: EVENT_SCHEMA },
  },
} as const;

interface AuditUser {
  readonly username: string;
  readonly groups?: string[];
}

interface AuditEvent {
  readonly auditID: string;
  readonly stage: string;
  readonly verb: string;
  readonly requestReceivedTimestamp: string;
  readonly user: AuditUser;
  readonly impersonatedUser?: AuditUser;
  readonly objectRef?: {
    readonly resource?: string;
    readonly subresource?: string;
    readonly namespace?: string;
    readonly name?: string;
    readonly apiGroup?: string;
  };
  readonly responseStatus?: { readonly code?: number };
  readonly responseObject?: unknown;
}

interface AuditEventList {
  readonly items: AuditEvent[];
}

const MUTATING_VERBS: ReadonlySet<string> = new Set(["create", "update", "patch", "delete"]);

export type AuditParser = (body: unknown) => AuditFact[] | undefined;

/** A parser that returns the facts of the mutating, completed requests, or undefined if invalid. */
export function createAuditParser(): AuditParser {
  const ajv = new Ajv({ allErrors: false, strict: false });
  const validate: ValidateFunction<AuditEventList> = ajv.compile<AuditEventList>(EVENT_LIST_SCHEMA);
  return (body) => {
    if (!validate(body)) return undefined;
    return body.items.map(toFact).filter((f): f is AuditFact => f !== undefined);
  };
}

/** resourceVersion of the written object, from a response the audit policy chose to include. */
function writtenVersion(response: unknown): string | undefined {
  if (typeof response !== "object" || response === null) return undefined;
  const metadata = (response as { metadata?: unknown }).metadata;
  if (typeof metadata !== "object" || metadata === null) return undefined;
  const rv = (metadata as { resourceVersion?: unknown }).resourceVersion;
  return typeof rv === "string" ? rv : undefined;
}

/** The object a completed write named, or undefined for reads, early stages and collections. */
function writtenRef(
  event: AuditEvent,
): (NonNullable<AuditEvent["objectRef"]> & { resource: string; name: string }) | undefined {
  const ref = event.objectRef;
  if (event.stage !== "ResponseComplete" || !MUTATING_VERBS.has(event.verb)) return undefined;
  if (ref?.resource === undefined || ref.name === undefined) return undefined;
  return { ...ref, resource: ref.resource, name: ref.name };
}

function toFact(event: AuditEvent): AuditFact | undefined {
  const ref = writtenRef(event);
  if (ref === undefined) return undefined;
  const receivedMs = Date.parse(event.requestReceivedTimestamp);
  if (Number.isNaN(receivedMs)) return undefined;
  // An impersonated request acts as the impersonated user; the impersonator is the caller.
  const user = event.impersonatedUser ?? event.user;
  return compact({
    user: { username: user.username, groups: user.groups ?? [] },
    verb: event.verb,
    group: ref.apiGroup ?? "",
    resource: ref.resource,
    subresource: ref.subresource,
    namespace: ref.namespace,
    name: ref.name,
    code: event.responseStatus?.code ?? 0,
    receivedMs,
    resourceVersion: writtenVersion(event.responseObject),
    auditId: event.auditID,
  });
}
