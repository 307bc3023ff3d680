/**
 * What the auditor learns about a change from outside the object itself, in one shape per
 * source. Plain data, so matching is pure and tested without a server.
 */

/** An object as sources name it: kinds from Events, resources (plurals) from audit events. */
export interface ObjectKey {
  /** "" for the core group. */
  readonly group: string;
  readonly kind: string;
  /** The REST resource (plural), when known. */
  readonly resource?: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface UserFact {
  readonly username: string;
  readonly groups: readonly string[];
  /** The authenticator's UID for the user (service accounts, OIDC), when it gave one. */
  readonly uid?: string;
}

/** A request the API server's audit webhook reported (ResponseComplete stage). */
export interface AuditFact {
  readonly user: UserFact;
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name: string;
  readonly code: number;
  readonly receivedMs: number;
  /** The resourceVersion of the written object, when the audit level includes the response. */
  readonly resourceVersion?: string;
  readonly auditId: string;
}

/** An allowed out-of-band change the admission webhook reported as a Kubernetes Event. */
export interface AdmissionFact {
  readonly user: UserFact;
  readonly group: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** The decision's reason code (BreakGlass, BreakGlassEnded, AuditMode). */
  readonly decision: string;
  readonly operation?: string;
  readonly breakGlass?: { readonly reason: string; readonly expires?: string };
  readonly changedFields: readonly string[];
  readonly timeMs: number;
  /** The object's apiVersion as the request named it (to read it back). */
  readonly apiVersion?: string;
  /** The object's uid, and the resourceVersion the request's old object had. */
  readonly objectUid?: string;
  readonly oldResourceVersion?: string;
  /** The Event that carried the fact: journaled once per uid, across restarts. */
  readonly event?: { readonly namespace: string; readonly name: string; readonly uid: string };
}
