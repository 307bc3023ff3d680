import { ErrorCodes, GuardError } from "../../errors.js";

/**
 * Git credentials from a GitSync's spec.secretRef, with Flux's key names so a Flux secret works
 * unchanged: `username` + `password` (HTTPS basic; a token as password for GitHub and GitLab),
 * `bearerToken` (HTTPS bearer), `identity` + `known_hosts` (SSH).
 */
export type GitCredentials =
  | { readonly kind: "none" }
  | { readonly kind: "basic"; readonly username: string; readonly password: string }
  | { readonly kind: "bearer"; readonly token: string }
  | { readonly kind: "ssh"; readonly identity: string; readonly knownHosts: string };

export const NO_CREDENTIALS: GitCredentials = { kind: "none" };

function decoded(data: Readonly<Record<string, string>>, key: string): string | undefined {
  const value = data[key];
  if (value === undefined) return undefined;
  return Buffer.from(value, "base64").toString("utf8");
}

/** True for URLs git reaches over SSH: ssh:// and scp-like user@host:path. */
export function isSshUrl(url: string): boolean {
  return url.startsWith("ssh://") || /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:/.test(url);
}

function invalid(secretName: string, message: string): never {
  throw new GuardError(ErrorCodes.GIT_CREDENTIALS_INVALID, `Secret ${secretName}: ${message}`);
}

/**
 * Picks the credentials for url from a Secret's data (base64 values, as the API returns them).
 * Throws GIT_CREDENTIALS_INVALID when keys are missing; messages name keys, never values.
 */
export function credentialsFromSecret(
  secretName: string,
  data: Readonly<Record<string, string>>,
  url: string,
): GitCredentials {
  if (isSshUrl(url)) {
    const identity = decoded(data, "identity");
    const knownHosts = decoded(data, "known_hosts");
    if (identity === undefined) invalid(secretName, "an SSH URL needs an identity key");
    if (knownHosts === undefined) {
      invalid(secretName, "an SSH URL needs known_hosts (host keys are always checked)");
    }
    return { kind: "ssh", identity, knownHosts };
  }
  const token = decoded(data, "bearerToken");
  if (token !== undefined) return { kind: "bearer", token };
  const username = decoded(data, "username");
  const password = decoded(data, "password");
  if (password !== undefined) return { kind: "basic", username: username ?? "git", password };
  return invalid(secretName, "an HTTPS URL needs bearerToken, or username and password");
}

/** The values to scrub from anything git prints before it reaches a condition, Event or log. */
export function secretValues(creds: GitCredentials): string[] {
  switch (creds.kind) {
    case "basic":
      return [
        creds.password,
        Buffer.from(`${creds.username}:${creds.password}`).toString("base64"),
      ];
    case "bearer":
      return [creds.token];
    case "ssh":
      return [creds.identity];
    case "none":
      return [];
  }
}

/** The Authorization header value for HTTPS credentials. */
export function authorizationHeader(creds: GitCredentials): string | undefined {
  if (creds.kind === "bearer") return `Bearer ${creds.token}`;
  if (creds.kind === "basic") {
    return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
  }
  return undefined;
}
