/**
 * Charts from an HTTP(S) chart repository (index.yaml), as `helm pull --repo` would get them,
 * with what helm lacks: bearer tokens beside basic auth, a CA of the Secret's, and a cache keyed
 * by the chart's digest. A version may be a semver range (`^1.2`, `>=1.0 <2.0`, `1.2.x`): the
 * newest match wins. The index's digest is checked against the bytes fetched, so a tampered or
 * swapped archive is refused. Every failure names the URL (never a credential).
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import semver from "semver";
import { parse } from "yaml";
import { ErrorCodes, GuardError } from "../../errors.js";

export interface RepoCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly bearerToken?: string;
  /** PEM: the CA the repository's certificate is checked against (beside the system's). */
  readonly caPem?: string;
}

export interface RepoSettings {
  readonly timeoutMs: number;
  /** Where fetched archives are kept, by name, version and digest. */
  readonly cacheDir: string;
  readonly signal?: AbortSignal;
}

export interface ChartEntry {
  readonly name: string;
  readonly version: string;
  readonly digest?: string;
  readonly urls: readonly string[];
}

export interface PulledChart {
  readonly archive: string;
  readonly version: string;
  /** sha256:<hex> of the archive. */
  readonly digest: string;
}

const MAX_BYTES = 64 * 1024 * 1024;

function failed(url: string, why: string): GuardError {
  return new GuardError(ErrorCodes.RENDER_HELM_FAILED, `chart repository ${url}: ${why}`, {
    details: { url },
  });
}

function headers(creds: RepoCredentials): Record<string, string> {
  if (creds.bearerToken !== undefined) return { authorization: `Bearer ${creds.bearerToken}` };
  if (creds.username === undefined) return {};
  const basic = Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64");
  return { authorization: `Basic ${basic}` };
}

/** GET url: the body, or a GuardError naming the URL and the status or cause. */
export function fetchBytes(
  url: string,
  creds: RepoCredentials,
  settings: RepoSettings,
): Promise<Buffer> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const shown = `${target.origin}${target.pathname}`;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: "GET",
        headers: { ...headers(creds), accept: "*/*" },
        ...(creds.caPem === undefined ? {} : { ca: creds.caPem }),
        timeout: settings.timeoutMs,
        ...(settings.signal === undefined ? {} : { signal: settings.signal }),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          reject(
            failed(
              shown,
              `GET answered ${String(status)}${status === 401 || status === 403 ? " (check spec.helm.chart.secretRef)" : ""}`,
            ),
          );
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BYTES) req.destroy(new Error(`larger than ${String(MAX_BYTES)} bytes`));
          else chunks.push(chunk);
        });
        res.on("end", () => {
          resolve(Buffer.concat(chunks));
        });
        res.on("error", (err) => {
          reject(failed(shown, err.message));
        });
      },
    );
    req.on("timeout", () =>
      req.destroy(new Error(`no answer in ${String(settings.timeoutMs)} ms`)),
    );
    req.on("error", (err) => {
      reject(failed(shown, err.message));
    });
    req.end();
  });
}

/** Helm's constraint syntax in npm's: "," joins constraints (AND), as a space does. */
function rangeOf(version: string): string {
  return version.replaceAll(",", " ").trim();
}

function entryOf(name: string, raw: Record<string, unknown>): ChartEntry | undefined {
  const version = typeof raw["version"] === "string" ? raw["version"] : "";
  const urls = Array.isArray(raw["urls"])
    ? raw["urls"].filter((u): u is string => typeof u === "string")
    : [];
  if (version === "" || urls.length === 0) return undefined;
  const digest = typeof raw["digest"] === "string" ? raw["digest"] : undefined;
  return { name, version, urls, ...(digest === undefined ? {} : { digest }) };
}

/** version exactly, else the newest version in the range version states. */
function pick(byVersion: ReadonlyMap<string, ChartEntry>, version: string): ChartEntry | undefined {
  const exact = byVersion.get(version) ?? byVersion.get(version.replace(/^v/, ""));
  if (exact !== undefined) return exact;
  const range = semver.validRange(rangeOf(version));
  const best = range === null ? null : semver.maxSatisfying([...byVersion.keys()], range);
  return best === null ? undefined : byVersion.get(best);
}

/** The entry for name at version (exact) or the newest in range; a GuardError when none. */
export function resolveEntry(
  index: unknown,
  name: string,
  version: string,
  url: string,
): ChartEntry {
  const entries = ((index as { entries?: Record<string, unknown[]> } | null)?.entries ?? {})[name];
  if (!Array.isArray(entries) || entries.length === 0)
    throw failed(url, `has no chart named ${name}`);
  const byVersion = new Map<string, ChartEntry>();
  for (const raw of entries as Record<string, unknown>[]) {
    const entry = entryOf(name, raw);
    if (entry !== undefined) byVersion.set(entry.version, entry);
  }
  const found = pick(byVersion, version);
  if (found === undefined) {
    throw failed(url, `has no version of ${name} matching ${JSON.stringify(version)}`);
  }
  return found;
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function readIndex(
  indexUrl: string,
  creds: RepoCredentials,
  settings: RepoSettings,
): Promise<unknown> {
  const bytes = await fetchBytes(indexUrl, creds, settings);
  try {
    return parse(bytes.toString("utf8"), { maxAliasCount: 100 });
  } catch {
    throw failed(indexUrl, "index.yaml is not valid YAML");
  }
}

/** The cached archive of entry, when its bytes still match the index's digest. */
async function cachedArchive(path: string, entry: ChartEntry): Promise<boolean> {
  if (entry.digest === undefined) return false;
  const hit = await readFile(path).catch(() => undefined);
  return hit !== undefined && sha256(hit) === entry.digest;
}

/** The chart's archive, fetched once per version and digest, checked against the index. */
export async function pullFromRepository(
  chart: { readonly repoURL: string; readonly name: string; readonly version: string },
  creds: RepoCredentials,
  settings: RepoSettings,
): Promise<PulledChart> {
  const base = chart.repoURL.endsWith("/") ? chart.repoURL : `${chart.repoURL}/`;
  const indexUrl = new URL("index.yaml", base).toString();
  const entry = resolveEntry(
    await readIndex(indexUrl, creds, settings),
    chart.name,
    chart.version,
    indexUrl,
  );
  const key = `${sha256(Buffer.from(base)).slice(0, 16)}-${entry.name}-${entry.version}-${entry.digest ?? "nodigest"}`;
  const cached = join(settings.cacheDir, `${key}.tgz`);
  if (await cachedArchive(cached, entry)) {
    return { archive: cached, version: entry.version, digest: `sha256:${entry.digest ?? ""}` };
  }
  const archiveUrl = new URL(entry.urls[0] ?? "", base).toString();
  const bytes = await fetchBytes(archiveUrl, creds, settings);
  const digest = sha256(bytes);
  if (entry.digest !== undefined && digest !== entry.digest) {
    throw failed(
      archiveUrl,
      `the archive's sha256 ${digest} is not the index's ${entry.digest}: refused`,
    );
  }
  await mkdir(settings.cacheDir, { recursive: true, mode: 0o700 });
  await writeFile(`${cached}.part`, bytes, { mode: 0o600 });
  await rename(`${cached}.part`, cached);
  return { archive: cached, version: entry.version, digest: `sha256:${digest}` };
}
