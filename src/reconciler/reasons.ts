import { ErrorCodes, errorMessage, isGuardError, type ErrorCode } from "../errors.js";

/** The CamelCase condition reason for each failure the reconciler reports. */
const REASONS: Partial<Record<ErrorCode, string>> = {
  [ErrorCodes.GIT_URL_INVALID]: "GitURLInvalid",
  [ErrorCodes.GIT_URL_NOT_ALLOWED]: "FileURLNotAllowed",
  [ErrorCodes.GIT_CREDENTIALS_INVALID]: "GitCredentialsInvalid",
  [ErrorCodes.GIT_AUTH_FAILED]: "GitAuthFailed",
  [ErrorCodes.GIT_REF_NOT_FOUND]: "GitRefNotFound",
  [ErrorCodes.GIT_UNREACHABLE]: "GitUnreachable",
  [ErrorCodes.GIT_FETCH_FAILED]: "GitFetchFailed",
  [ErrorCodes.RENDER_PATH_INVALID]: "PathNotFound",
  [ErrorCodes.RENDER_YAML_INVALID]: "InvalidYAML",
  [ErrorCodes.RENDER_OBJECT_INVALID]: "InvalidManifest",
  [ErrorCodes.RENDER_DUPLICATE_OBJECT]: "DuplicateObject",
  [ErrorCodes.RENDER_KUSTOMIZE_FAILED]: "KustomizeFailed",
  [ErrorCodes.RENDER_SOPS_UNAVAILABLE]: "DecryptionUnavailable",
  [ErrorCodes.RENDER_SOPS_FAILED]: "DecryptionFailed",
  [ErrorCodes.RENDER_HELM_FAILED]: "HelmFailed",
  [ErrorCodes.RENDER_HELM_VALUES_INVALID]: "HelmValuesInvalid",
  [ErrorCodes.RENDER_HELM_VALUES_MISSING]: "HelmValuesMissing",
  [ErrorCodes.APPLY_FAILED]: "ApplyFailed",
  [ErrorCodes.APPLY_FORBIDDEN]: "Forbidden",
  [ErrorCodes.APPLY_OWNERSHIP_CONFLICT]: "OwnershipConflict",
  [ErrorCodes.APPLY_IMMUTABLE_FIELD]: "ImmutableField",
  [ErrorCodes.APPLY_KIND_UNKNOWN]: "UnknownKind",
  [ErrorCodes.APPLY_NOT_READY]: "DefinitionsFailed",
  [ErrorCodes.APPLY_HOOK_FAILED]: "PreSyncHookFailed",
  [ErrorCodes.PRUNE_REFUSED]: "PruneRefused",
  [ErrorCodes.PRUNE_FAILED]: "PruneFailed",
};

/** The reason for err; a GuardError may carry a finer one in details.reason (git's host key). */
export function reasonFor(err: unknown, fallback: string): string {
  if (!isGuardError(err)) return fallback;
  const detailed = err.details["reason"];
  const fromGit = err.code.startsWith("GG_GIT_") && typeof detailed === "string";
  if (fromGit && /^[A-Z][A-Za-z]+$/.test(detailed)) return detailed;
  return REASONS[err.code] ?? fallback;
}

/** The message for a condition or Event: one line, bounded (conditions cap at 32 KiB). */
export function conditionMessage(err: unknown): string {
  return errorMessage(err).replace(/\s+/g, " ").slice(0, 4000);
}
