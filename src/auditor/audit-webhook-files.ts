/**
 * The audit webhook's TLS material and bearer token, read from the files the configuration
 * names (in a cluster: a TLS Secret and a token Secret mounted into the pod). Read once at
 * start; an unreadable or empty file stops the start with a message naming it.
 */
import { readFileSync } from "node:fs";
import type { AuditWebhookConfig } from "../config.js";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import type { TlsMaterial } from "../http/server.js";

export interface AuditWebhookSettings {
  readonly listen: string;
  readonly tls: TlsMaterial;
  readonly token: string;
}

function read(what: string, file: string | undefined): string {
  if (file === undefined) {
    throw new GuardError(ErrorCodes.CONFIG_INVALID, `auditWebhook.${what} is not set`);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err: unknown) {
    throw new GuardError(
      ErrorCodes.CONFIG_INVALID,
      `cannot read auditWebhook.${what} ${file}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
  // Never quote the content: the key and the token are credentials.
  if (text.trim() === "") {
    throw new GuardError(ErrorCodes.CONFIG_INVALID, `auditWebhook.${what} ${file} is empty`);
  }
  return text;
}

/** Undefined when the audit webhook is not configured (no listen address). */
export function auditWebhookSettings(config: AuditWebhookConfig): AuditWebhookSettings | undefined {
  if (config.listen === undefined) return undefined;
  return {
    listen: config.listen,
    tls: { cert: read("certFile", config.certFile), key: read("keyFile", config.keyFile) },
    token: read("tokenFile", config.tokenFile).trim(),
  };
}
