/**
 * Charts from OCI registries (`oci://host/path`), pulled by the real helm. Helm resolves a semver
 * range against the repository's tags itself, and ORAS checks each blob it fetches against the
 * digest its manifest states, so a swapped or corrupted chart layer is refused. Credentials reach
 * helm only through a registry config file of ours (mode 0600, in a private folder removed after
 * the pull), never on its command line or in a message. Every failure names the chart's URL.
 */
import { execFile, type ExecFileException } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import semver from "semver";
import { ErrorCodes, GuardError } from "../../errors.js";
import type { PulledChart, RepoCredentials } from "./repository.js";
import type { HelmSettings } from "./template.js";

export interface OciChart {
  readonly repoURL: string;
  readonly name: string;
  /** An exact version (a tag) or a semver range over the repository's tags. */
  readonly version: string;
}

interface Target {
  /** oci://host/path/name, without any user info: what helm pulls and messages name. */
  readonly ref: string;
  readonly host: string;
  readonly name: string;
  readonly version: string;
}

function failed(target: Target, why: string): GuardError {
  return new GuardError(
    ErrorCodes.RENDER_HELM_FAILED,
    `chart registry ${target.ref} (version ${JSON.stringify(target.version)}): ${why}`,
    { details: { url: target.ref } },
  );
}

function targetOf(chart: OciChart): Target {
  let url: URL;
  try {
    url = new URL(chart.repoURL);
  } catch {
    throw new GuardError(ErrorCodes.RENDER_HELM_FAILED, "spec.helm.chart.repoURL is not a URL");
  }
  const target: Target = {
    ref: `oci://${url.host}${url.pathname.replace(/\/+$/, "")}/${chart.name}`,
    host: url.host,
    name: chart.name,
    version: chart.version,
  };
  if (url.username !== "" || url.password !== "") {
    throw failed(target, "credentials belong in spec.helm.chart.secretRef, not in the URL");
  }
  return target;
}

function sha256(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * A tag helm pulls as is. Anything else is a range helm resolves against the tags, which can
 * move with every push, so only exact versions are served from the cache.
 */
function isExact(version: string): boolean {
  return semver.valid(version) !== null;
}

/** The cached archive of one chart version of one repository. */
function archivePath(cacheDir: string, target: Target, version: string): string {
  return join(cacheDir, `oci-${sha256(target.ref).slice(0, 16)}-${version}.tgz`);
}

async function cached(archive: string, version: string): Promise<PulledChart | undefined> {
  const bytes = await readFile(archive).catch(() => undefined);
  return bytes === undefined ? undefined : { archive, version, digest: `sha256:${sha256(bytes)}` };
}

/** The key docker and ORAS file Docker Hub's credentials under, whatever its host is called. */
function serverAddress(host: string): string {
  return host === "docker.io" || host === "registry-1.docker.io"
    ? "https://index.docker.io/v1/"
    : host;
}

/**
 * A docker config.json for the chart's host, as helm's registry client (ORAS v2) reads it.
 * - username/password: `auth`, used for a Basic challenge, or exchanged at the realm of a Bearer
 *   challenge (the distribution token flow, as ghcr.io, Harbor and ECR use).
 * - bearerToken: `registrytoken`. ORAS sends it as is on a Bearer challenge (its AccessToken);
 *   `identitytoken` would be an OAuth2 refresh token to exchange, which a bearer token is not.
 *   A registry that asks for Basic auth gets no token, so a token alone is refused there (401).
 * The entry is written even without credentials: a config with none makes ORAS look for a
 * desktop credential helper (docker-credential-pass, -secretservice) on PATH and run it.
 */
function registryConfig(host: string, creds: RepoCredentials): string {
  const entry: Record<string, string> = {};
  if (creds.username !== undefined) {
    entry["auth"] = Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64");
  }
  if (creds.bearerToken !== undefined) entry["registrytoken"] = creds.bearerToken;
  return JSON.stringify({ auths: { [serverAddress(host)]: entry } });
}

/** The registry config and CA in the pull's private folder; the arguments naming them. */
async function writeAuth(work: string, target: Target, creds: RepoCredentials): Promise<string[]> {
  const config = join(work, "config.json");
  await writeFile(config, registryConfig(target.host, creds), { mode: 0o600 });
  const args = [`--registry-config=${config}`];
  if (creds.caPem !== undefined) {
    await writeFile(join(work, "ca.crt"), creds.caPem, { mode: 0o600 });
    args.push(`--ca-file=${join(work, "ca.crt")}`);
  }
  return args;
}

// ORAS words a refused blob as a failed copy ("Push" into its memory store): say what it means.
function hint(text: string): string {
  if (/\b(401|403)\b/.test(text)) return " (check spec.helm.chart.secretRef)";
  if (text.includes("mismatched digest")) {
    return " (a blob's bytes do not match the digest its manifest states: refused)";
  }
  return "";
}

// Helm's errors are one line ("Error: ..."); no secret is ever in them (they quote URLs and
// statuses), but each is masked all the same should a registry echo one back.
function why(stderr: string, creds: RepoCredentials, fallback: string): string {
  const line = stderr
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.startsWith("Error:"));
  let text = (line?.replace(/^Error:\s*/, "") ?? fallback).slice(0, 2000);
  for (const secret of [creds.password, creds.bearerToken]) {
    if (secret !== undefined && secret !== "") text = text.replaceAll(secret, "***");
  }
  return `helm pull failed: ${text}${hint(text)}`;
}

/** Why helm pull failed: the sync was stopped, the registry did not answer, or helm's error. */
function reason(
  err: ExecFileException,
  stderr: string,
  settings: HelmSettings,
  creds: RepoCredentials,
): string {
  if (settings.signal?.aborted === true) return "stopped";
  if (err.killed) return `no answer in ${String(settings.timeoutMs)} ms`;
  return why(stderr, creds, err.message);
}

/** `helm pull` into work/out, killed after settings.timeoutMs. */
function helmPull(
  settings: HelmSettings,
  work: string,
  target: Target,
  auth: { readonly args: readonly string[]; readonly creds: RepoCredentials },
): Promise<void> {
  // "--flag=value": a version starting with "-" cannot be read as a flag.
  const args = [
    "pull",
    target.ref,
    `--version=${target.version}`,
    `--destination=${join(work, "out")}`,
    ...auth.args,
  ];
  // DOCKER_CONFIG: helm falls back to docker's config when its own has no entry; both are ours.
  const env = {
    PATH: settings.searchPath,
    HOME: settings.homeDir,
    LANG: "C",
    HELM_NO_PLUGINS: "1",
    DOCKER_CONFIG: work,
  };
  return new Promise((resolve, reject) => {
    execFile(
      settings.helm,
      args,
      { env, signal: settings.signal, timeout: settings.timeoutMs, encoding: "utf8" },
      (err: ExecFileException | null, _stdout, stderr) => {
        if (err === null) resolve();
        else reject(failed(target, reason(err, stderr, settings, auth.creds)));
      },
    );
  });
}

/**
 * The pulled archive moved into the cache. Helm names it NAME-TAG.tgz; tags hold "_" where the
 * version has "+", which OCI tags may not contain (helm's own convention).
 */
async function keep(work: string, target: Target, cacheDir: string): Promise<PulledChart> {
  const prefix = `${basename(target.name)}-`;
  const files = await readdir(join(work, "out"));
  const file = files.find((f) => f.startsWith(prefix) && f.endsWith(".tgz"));
  if (file === undefined) throw failed(target, "helm pull wrote no chart archive");
  const version = file.slice(prefix.length, -".tgz".length).replaceAll("_", "+");
  const bytes = await readFile(join(work, "out", file));
  const archive = archivePath(cacheDir, target, version);
  // Rename is atomic: a concurrent pull of the same version sees a whole archive or none.
  await rename(join(work, "out", file), archive);
  return { archive, version, digest: `sha256:${sha256(bytes)}` };
}

/**
 * The chart's archive: an exact version from the cache when pulled before (a published version
 * is not re-pushed), a range resolved by helm on every call (a newer tag may have appeared).
 */
export async function pullFromOci(
  chart: OciChart,
  creds: RepoCredentials,
  settings: HelmSettings,
): Promise<PulledChart> {
  const target = targetOf(chart);
  if (isExact(chart.version)) {
    const hit = await cached(archivePath(settings.cacheDir, target, chart.version), chart.version);
    if (hit !== undefined) return hit;
  }
  await mkdir(settings.cacheDir, { recursive: true, mode: 0o700 });
  // mkdtemp makes the folder 0700: the registry config in it is readable by us alone.
  const work = await mkdtemp(join(settings.cacheDir, ".oci-pull-"));
  try {
    await mkdir(join(work, "out"));
    const args = await writeAuth(work, target, creds);
    await helmPull(settings, work, target, { args, creds });
    return await keep(work, target, settings.cacheDir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
