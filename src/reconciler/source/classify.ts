import { ErrorCodes, type ErrorCode } from "../../errors.js";

/**
 * Turns what git printed on a failed fetch into a cause a person can act on. Pure: it sees only
 * git's stderr (already redacted) and the ref asked for. git's wording is stable across the
 * versions Debian ships; anything unrecognised stays GIT_FETCH_FAILED with git's own words.
 */
export interface GitFailure {
  readonly code: ErrorCode;
  /** CamelCase condition reason. */
  readonly reason: string;
  readonly message: string;
}

interface Rule {
  readonly pattern: RegExp;
  readonly code: ErrorCode;
  readonly reason: string;
  readonly explain: string;
}

const RULES: readonly Rule[] = [
  {
    pattern: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i,
    code: ErrorCodes.GIT_AUTH_FAILED,
    reason: "GitHostKeyRejected",
    explain: "the SSH host key of the Git server is not in known_hosts",
  },
  {
    pattern:
      /terminal prompts disabled|Authentication failed|Access denied|Permission denied \(publickey|HTTP 40[13]|returned error: 40[13]/i,
    code: ErrorCodes.GIT_AUTH_FAILED,
    reason: "GitAuthFailed",
    explain: "the Git server rejected the credentials (check spec.secretRef)",
  },
  {
    pattern: /couldn't find remote ref|not our ref|unadvertised object|no such remote ref/i,
    code: ErrorCodes.GIT_REF_NOT_FOUND,
    reason: "GitRefNotFound",
    explain: "the ref does not exist in the repository",
  },
  {
    pattern:
      /Could not resolve host|Connection refused|Failed to connect|Connection timed out|Operation timed out|Could not read from remote repository|does not appear to be a git repository|not found|unable to access|Network is unreachable|Empty reply/i,
    code: ErrorCodes.GIT_UNREACHABLE,
    reason: "GitUnreachable",
    explain: "the Git repository cannot be reached",
  },
];

/** The lines of git's stderr worth showing: fatal:/error: first, else the last line. */
function gitSaid(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const important = lines.filter((l) => /^(fatal|error|ERROR):/.test(l));
  const shown = important.length > 0 ? important : lines.slice(-1);
  return shown.join("; ").slice(0, 1000);
}

/**
 * The failure git's stderr describes. hasCredentials tells "rejected the credentials" from
 * "needs credentials" (git says the same for both: it could not prompt for a user name).
 */
export function classifyGitFailure(
  stderr: string,
  refDescription: string,
  hasCredentials = true,
): GitFailure {
  const said = gitSaid(stderr);
  const rule = RULES.find((r) => r.pattern.test(stderr));
  if (rule === undefined) {
    return {
      code: ErrorCodes.GIT_FETCH_FAILED,
      reason: "GitFetchFailed",
      message: `git fetch of ${refDescription} failed: ${said === "" ? "no output" : said}`,
    };
  }
  const explain =
    rule.reason === "GitAuthFailed" && !hasCredentials
      ? "the Git server requires credentials (set spec.secretRef)"
      : rule.explain;
  return {
    code: rule.code,
    reason: rule.reason,
    message: `${explain}: fetching ${refDescription}: ${said}`,
  };
}

/** Removes every secret value, and any user:password@ in URLs, from text shown to people. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, "$1***@");
  for (const secret of secrets) {
    // Short values (a one-letter username) would redact ordinary words and say nothing secret.
    if (secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}
