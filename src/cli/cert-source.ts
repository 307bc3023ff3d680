/**
 * Where `seal` gets the certificate it seals for: --cert (a file, an http(s):// or file://
 * URL), else GITOPS_GUARD_CERT, else kubeseal's SEALED_SECRETS_CERT, else the controller
 * through the API server (online, loaded only then).
 */
import { fileURLToPath } from "node:url";
import type { Environment } from "../config.js";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import { readInputFile } from "./io.js";

export const CERT_ENV_NAMES = ["GITOPS_GUARD_CERT", "SEALED_SECRETS_CERT"] as const;

export interface CertLocation {
  /** A file path or URL, or undefined to ask the controller. */
  readonly location?: string;
  /** How the user named it: "--cert", "env GITOPS_GUARD_CERT", ... */
  readonly source: string;
}

export function certLocation(flag: string | undefined, env: Environment): CertLocation {
  if (flag !== undefined && flag !== "") return { location: flag, source: "--cert" };
  for (const name of CERT_ENV_NAMES) {
    const value = env[name];
    if (value !== undefined && value !== "") return { location: value, source: `env ${name}` };
  }
  return { source: "the controller" };
}

/** URL schemes kubeseal treats as URLs; anything else is a file name (c:\ included). */
function urlOf(location: string): URL | undefined {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]+:\/\//.test(location)) return undefined;
  try {
    return new URL(location);
  } catch {
    return undefined;
  }
}

async function fetchText(url: URL, source: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (err: unknown) {
    throw new GuardError(
      ErrorCodes.SEAL_CERT_UNAVAILABLE,
      `cannot fetch the certificate from ${url.href} (${source}): ${errorMessage(err)}`,
      { cause: err },
    );
  }
  if (!response.ok) {
    throw new GuardError(
      ErrorCodes.SEAL_CERT_UNAVAILABLE,
      `cannot fetch the certificate from ${url.href} (${source}): HTTP ${response.status}`,
    );
  }
  return response.text();
}

/** The PEM text at a file or URL. */
export async function readCertText(location: string, source: string): Promise<string> {
  const url = urlOf(location);
  const code = ErrorCodes.SEAL_CERT_UNAVAILABLE;
  if (url === undefined) return (await readInputFile(location, source, code)).toString("utf8");
  if (url.protocol === "file:") {
    return (await readInputFile(fileURLToPath(url), source, code)).toString("utf8");
  }
  if (url.protocol === "http:" || url.protocol === "https:") return fetchText(url, source);
  throw new GuardError(
    ErrorCodes.SEAL_CERT_UNAVAILABLE,
    `${source} ${location}: only files and file://, http:// and https:// URLs are supported`,
  );
}
