/**
 * The Events contract between the components that write Events and the auditor that journals
 * them. Components never import each other, so both sides take the names from here: a renamed
 * annotation changes writer and reader together, and test/auditor checks the round trip.
 *
 * Only names, identities, field paths, key fingerprints and times go in these Events: never a
 * value, so neither an Event nor the journal record made from it can leak a Secret.
 */

/** Every Event the auditor reads carries this label: its Event informer selects on it. */
export const GUARD_EVENT_LABELS: Readonly<Record<string, string>> = {
  "app.kubernetes.io/managed-by": "gitops-guard",
};
export const GUARD_EVENT_SELECTOR = "app.kubernetes.io/managed-by=gitops-guard";

/** reportingController (events.k8s.io/v1), or reportingComponent of a core/v1 Event. */
export const EVENT_REPORTERS = {
  admission: "gitops-guard.io/admission",
  secrets: "gitops-guard.io/secrets",
} as const;

/** The admission webhook's facts about one request it judged. */
export const ADMISSION_EVENT_ANNOTATIONS = {
  user: "gitops-guard.io/user",
  /**
   * The requester's UID (userInfo.uid), only when the authenticator gives one (service-account
   * tokens, OIDC): a name can be reused, a UID cannot.
   */
  uid: "gitops-guard.io/uid",
  /** JSON array of strings. */
  groups: "gitops-guard.io/groups",
  /** The decision's reason code (BreakGlass, AuditMode, OutOfBandChange...). */
  decision: "gitops-guard.io/decision",
  policy: "gitops-guard.io/policy",
  operation: "gitops-guard.io/operation",
  /** JSON array of JSON pointers: paths only. */
  changedFields: "gitops-guard.io/changed-fields",
  wouldDeny: "gitops-guard.io/would-deny",
  reason: "gitops-guard.io/break-glass-reason",
  expires: "gitops-guard.io/break-glass-expires",
  holder: "gitops-guard.io/break-glass-by",
  requestUid: "gitops-guard.io/request-uid",
  /**
   * The resourceVersion the request's old object had (UPDATE, DELETE): the auditor tells a write
   * that happened (the object moved on) from one a later admission step refused (it did not).
   */
  oldResourceVersion: "gitops-guard.io/old-resource-version",
  /**
   * More facts about the same object, beside the one in the other annotations: a JSON array of
   * { "annotations": {the annotations above}, "time": RFC 3339 }. Changes of one object in quick
   * succession share one Event, so a burst costs one API write per object and window.
   */
  moreFacts: "gitops-guard.io/more-facts",
} as const;

/**
 * The action of a denial's Event. Allowed out-of-band changes (Admit, Delete) are attribution
 * facts for drift; a denial changed nothing and is journaled as admission-denied.
 */
export const DENIED_ACTION = "Deny";

/** Reasons of the secrets controller's Events that the auditor journals. */
export const SECRETS_EVENT_REASONS = {
  /**
   * A Secret written (created or changed) from a SealedSecret: secret-materialised. regarding
   * is the SealedSecret, related the Secret as written (uid, resourceVersion).
   */
  unsealed: "Unsealed",
  /** A new sealing key: key-rotated. regarding is the key Secret, in the controller's namespace. */
  keyGenerated: "KeyGenerated",
} as const;

export const SECRETS_EVENT_ANNOTATIONS = {
  /** Unsealed: "created" or "updated". */
  write: "gitops-guard.io/secret-write",
  /** Unsealed: JSON array of the fingerprints of the keys that opened the items. */
  keys: "gitops-guard.io/key-fingerprints",
  /** Unsealed: the writer's field manager, "manager (Operation)". */
  fieldManager: "gitops-guard.io/field-manager",
  /** KeyGenerated: the new key's fingerprint (SHA256:..., as `keys fingerprint` prints it). */
  fingerprint: "gitops-guard.io/key-fingerprint",
  /** KeyGenerated: the certificate's validity, RFC 3339. */
  notBefore: "gitops-guard.io/key-not-before",
  notAfter: "gitops-guard.io/key-not-after",
  /** KeyGenerated: initial, renewal or on-demand. */
  trigger: "gitops-guard.io/key-trigger",
} as const;
