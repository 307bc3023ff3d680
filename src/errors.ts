/**
 * The error catalogue. Every error the product raises on purpose carries a stable code that
 * tests, logs and API responses use; messages are for people and may change.
 */
export const ErrorCodes = {
  CONFIG_INVALID: "GG_CONFIG_INVALID",
  KUBECONFIG_INVALID: "GG_KUBECONFIG_INVALID",
  KUBE_REQUEST_FAILED: "GG_KUBE_REQUEST_FAILED",
  KUBE_CONFLICT: "GG_KUBE_CONFLICT",
  KUBE_NOT_FOUND: "GG_KUBE_NOT_FOUND",
  QUEUE_SHUT_DOWN: "GG_QUEUE_SHUT_DOWN",
  LEADER_LOST: "GG_LEADER_LOST",
  HTTP_LISTEN_FAILED: "GG_HTTP_LISTEN_FAILED",
  TLS_INVALID: "GG_TLS_INVALID",
  INTERNAL: "GG_INTERNAL",
  HTTP_BAD_REQUEST: "GG_HTTP_BAD_REQUEST",
  // sealing (src/crypto/sealing, seal/unseal/keys CLI)
  // admission (src/admission, GuardPolicy)
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class GuardError extends Error {
  override readonly name: string = "GuardError";
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

export function isGuardError(err: unknown, code?: ErrorCode): err is GuardError {
  return err instanceof GuardError && (code === undefined || err.code === code);
}

/** A readable one-line message for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === "string" ? err : JSON.stringify(err);
}
