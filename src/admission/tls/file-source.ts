/**
 * TLS from files: a cert-manager Certificate's Secret mounted as a volume (tls.crt, tls.key and,
 * for CA issuers, ca.crt), or the files of `gitops-guard webhook --tls-cert --tls-key`. The
 * kubelet swaps a Secret volume's files atomically, so re-reading them on an interval picks
 * up cert-manager's renewals without a restart.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCodes, GuardError, errorMessage } from "../../errors.js";
import type { ServingMaterial, TlsSource } from "./source.js";

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  /** Optional CA bundle to write into the webhook configuration. */
  readonly ca?: string;
}

const CHECK_INTERVAL_MS = 10_000;

/** The files cert-manager writes into a mounted Secret volume. */
export function filesInDirectory(dir: string): TlsFiles {
  return { cert: join(dir, "tls.crt"), key: join(dir, "tls.key"), ca: join(dir, "ca.crt") };
}

/** True when dir holds a tls.crt: the chart mounted cert-manager's Secret there. */
export async function hasCertificateFiles(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, "tls.crt"))).isFile();
  } catch {
    return false;
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err: unknown) {
    throw new GuardError(
      ErrorCodes.TLS_INVALID,
      `cannot read the ${what} ${path}: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
}

async function readOptional(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  try {
    const text = await readFile(path, "utf8");
    return text.includes("BEGIN CERTIFICATE") ? text : undefined;
  } catch {
    return undefined;
  }
}

export function fileTlsSource(files: TlsFiles, checkIntervalMs = CHECK_INTERVAL_MS): TlsSource {
  return {
    mode: "files",
    checkIntervalMs,
    async load() {
      const [cert, key, caBundle] = await Promise.all([
        readText(files.cert, "TLS certificate"),
        readText(files.key, "TLS private key"),
        readOptional(files.ca),
      ]);
      const material: ServingMaterial = { cert, key };
      return caBundle === undefined ? material : { ...material, caBundle };
    },
  };
}
