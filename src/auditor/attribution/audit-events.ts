/**
 * audit.k8s.io/v1 EventList from the API server's audit webhook backend. Validated with ajv
 * before use; only who, what and when are kept. The request and response bodies an audit
 * policy may include (Secrets among them) are never copied, logged or stored: only the written
 * object's resourceVersion is read from the response. Annotations are read for one purpose:
 * the denials of gitops-guard's compiled policies (backstop-denials.ts).
 */
import { Ajv, type ValidateFunction } from "ajv";
import { compact } from "../compact.js";
import { backstopDenialOf, type AuditEventView, type BackstopDenial } from "./backstop-denials.js";
import type { AuditFact } from "./facts.js";

const STRING = { type: "string" } as const;

const USER_SCHEMA = {
  type: "object",
  required: ["username"],
  properties: { username: STRING, uid: STRING, groups: { type: "array", items: STRING } },
};

const EVENT_SCHEMA = {
  type: "object",
  required: ["auditID", "stage", "verb", "user", "requestReceivedTimestamp"],
  properties: {
    auditID: STRING,
    stage: STRING,
    verb: STRING,
    requestURI: STRING,
    requestReceivedTimestamp: STRING,
    stageTimestamp: STRING,
    user: USER_SCHEMA,
    impersonatedUser: USER_SCHEMA,
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
    // Only an object: a value of a shape we do not read must not make the batch invalid.
    annotations: { type: "object" },
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

interface AuditEvent extends AuditEventView {
  readonly responseStatus?: { readonly code?: number };
  readonly responseObject?: unknown;
}

interface AuditEventList {
  readonly items: AuditEvent[];
}

const MUTATING_VERBS: ReadonlySet<string> = new Set(["create", "update", "patch", "delete"]);

export type AuditParser = (body: unknown) => AuditFact[] | undefined;

export interface AuditParserOptions {
  /** Told of each request one of gitops-guard's compiled policies denied, in batch order. */
  readonly onDenial?: (denial: BackstopDenial) => void;
}

/** A parser that returns the facts of the mutating, completed requests, or undefined if invalid. */
export function createAuditParser(options: AuditParserOptions = {}): AuditParser {
  const ajv = new Ajv({ allErrors: false, strict: false });
  const validate: ValidateFunction<AuditEventList> = ajv.compile<AuditEventList>(EVENT_LIST_SCHEMA);
  const { onDenial } = options;
  return (body) => {
    if (!validate(body)) return undefined;
    if (onDenial !== undefined) {
      for (const event of body.items) {
        const denial = backstopDenialOf(event);
        if (denial !== undefined) onDenial(denial);
      }
    }
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
    user: compact({
      username: user.username,
      groups: user.groups ?? [],
      uid: user.uid || undefined,
    }),
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
