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
  SEAL_INPUT_INVALID: "GG_SEAL_INPUT_INVALID",
  SEAL_NAMESPACE_MISMATCH: "GG_SEAL_NAMESPACE_MISMATCH",
  SEAL_CERT_INVALID: "GG_SEAL_CERT_INVALID",
  SEAL_CERT_EXPIRED: "GG_SEAL_CERT_EXPIRED",
  SEAL_CERT_UNAVAILABLE: "GG_SEAL_CERT_UNAVAILABLE",
  SEAL_CONTROLLER_FAILED: "GG_SEAL_CONTROLLER_FAILED",
  UNSEAL_INPUT_INVALID: "GG_UNSEAL_INPUT_INVALID",
  UNSEAL_DEPRECATED_V1: "GG_UNSEAL_DEPRECATED_V1",
  UNSEAL_BAD_BASE64: "GG_UNSEAL_BAD_BASE64",
  UNSEAL_TRUNCATED: "GG_UNSEAL_TRUNCATED",
  UNSEAL_BAD_LENGTH_PREFIX: "GG_UNSEAL_BAD_LENGTH_PREFIX",
  UNSEAL_TAMPERED: "GG_UNSEAL_TAMPERED",
  UNSEAL_SCOPE_MISMATCH: "GG_UNSEAL_SCOPE_MISMATCH",
  UNSEAL_FOREIGN_VALUE: "GG_UNSEAL_FOREIGN_VALUE",
  UNSEAL_NO_KEY: "GG_UNSEAL_NO_KEY",
  UNSEAL_TEMPLATE_INVALID: "GG_UNSEAL_TEMPLATE_INVALID",
  UNSEAL_FAILED: "GG_UNSEAL_FAILED",
  UNSEAL_NOT_VALID: "GG_UNSEAL_NOT_VALID",
  KEYS_INVALID: "GG_KEYS_INVALID",
  KEYS_NONE: "GG_KEYS_NONE",
  KEYS_MISMATCH: "GG_KEYS_MISMATCH",
  // admission (src/admission, GuardPolicy)
  ADMISSION_REVIEW_NOT_JSON: "GG_ADMISSION_REVIEW_NOT_JSON",
  ADMISSION_REVIEW_INVALID: "GG_ADMISSION_REVIEW_INVALID",
  ADMISSION_REVIEW_UNSUPPORTED_VERSION: "GG_ADMISSION_REVIEW_UNSUPPORTED_VERSION",
  ADMISSION_INTERNAL: "GG_ADMISSION_INTERNAL",
  POLICY_INVALID: "GG_POLICY_INVALID",
  // auditor (src/auditor)
  JOURNAL_SECRET_VALUE: "GG_JOURNAL_SECRET_VALUE",
  JOURNAL_INVALID: "GG_JOURNAL_INVALID",
  JOURNAL_OPEN_FAILED: "GG_JOURNAL_OPEN_FAILED",
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
