/**
 * What the API server said when it refused a request, read from the details statusError puts
 * on the GuardError: the HTTP status, the Status reason and its per-field causes. Decide on
 * these, never on the message text: the message names the object's path, so a Secret called
 * "immutable-db" makes every failure about it, a 503 included, say "immutable".
 */
import { isGuardError } from "../errors.js";

/** One of a Status's details.causes (metav1.StatusCause): its reason is the cause's type. */
export interface StatusCause {
  readonly reason?: string;
  readonly field?: string;
  readonly message?: string;
}

export interface ApiRefusal {
  readonly status: number;
  /** The Status reason ("Invalid", "Forbidden", ...); "" when the answer was not a Status. */
  readonly reason: string;
  readonly causes: readonly StatusCause[];
}

/** The refusal an error carries, or undefined when the API server gave no answer. */
export function apiRefusal(err: unknown): ApiRefusal | undefined {
  if (!isGuardError(err)) return undefined;
  const { status, reason, causes } = err.details;
  if (typeof status !== "number") return undefined;
  return {
    status,
    reason: typeof reason === "string" ? reason : "",
    causes: Array.isArray(causes)
      ? causes.filter((c): c is StatusCause => typeof c === "object" && c !== null)
      : [],
  };
}

/** A 422 Invalid whose causes name one of these fields (exactly, as "data" or "spec.selector"). */
export function isInvalidField(err: unknown, fields: readonly string[]): boolean {
  const refusal = apiRefusal(err);
  return (
    refusal?.status === 422 &&
    refusal.reason === "Invalid" &&
    refusal.causes.some((c) => c.field !== undefined && fields.includes(c.field))
  );
}

/**
 * The NamespaceLifecycle admission plugin's refusal to create an object in a namespace that is
 * being deleted: 403 Forbidden with a cause of type NamespaceTerminating.
 */
export function isNamespaceTerminating(err: unknown): boolean {
  const refusal = apiRefusal(err);
  return refusal?.status === 403 && refusal.causes.some((c) => c.reason === "NamespaceTerminating");
}
