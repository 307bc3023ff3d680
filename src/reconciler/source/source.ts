import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCodes, GuardError } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import type { KubeObject } from "../../kube/objects.js";
import type { GitSyncSpec } from "../gitsync.js";
import {
  NO_CREDENTIALS,
  credentialsFromSecret,
  secretValues,
  type GitCredentials,
} from "./credentials.js";
import { fetchSource, type FetchedSource } from "./fetch.js";
import { gitEnvironment } from "./git-env.js";

/** Where and how the reconciler runs git. */
export interface GitSettings {
  readonly git: string;
  readonly searchPath: string;
  /** The reconciler's folder under config.stateDir: caches, an empty HOME, credential files. */
  readonly stateDir: string;
  readonly timeoutMs: number;
}

export interface SourceRequest {
  readonly kube: KubeClient;
  readonly settings: GitSettings;
  readonly namespace: string;
  readonly name: string;
  /** A GitSync with a Git repository (spec.url set). */
  readonly spec: GitSyncSpec & { readonly url: string };
  readonly signal: AbortSignal;
}

async function readCredentials(req: SourceRequest): Promise<GitCredentials> {
  const secretName = req.spec.secretName;
  if (secretName === undefined) return NO_CREDENTIALS;
  const secret = await req.kube.get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "Secret",
    namespace: req.namespace,
    name: secretName,
  });
  if (secret === undefined) {
    throw new GuardError(
      ErrorCodes.GIT_CREDENTIALS_INVALID,
      `Secret ${req.namespace}/${secretName} (spec.secretRef) does not exist`,
    );
  }
  return credentialsFromSecret(`${req.namespace}/${secretName}`, secret.data ?? {}, req.spec.url);
}

/** The cache folder of one GitSync: stable across syncs, new when the URL changes. */
function cacheDir(req: SourceRequest): string {
  const id = createHash("sha256")
    .update(`${req.namespace}/${req.name}\n${req.spec.url}`)
    .digest("hex")
    .slice(0, 24);
  return join(req.settings.stateDir, "git", id);
}

/** Writes SSH key material for one fetch into a private folder, removed after it. */
async function sshFiles(
  creds: GitCredentials,
  dir: string,
): Promise<{ identity: string; knownHosts: string } | undefined> {
  if (creds.kind !== "ssh") return undefined;
  const identity = join(dir, "identity");
  const knownHosts = join(dir, "known_hosts");
  // ssh refuses a key file others can read; a trailing newline is required by OpenSSH.
  await writeFile(
    identity,
    creds.identity.endsWith("\n") ? creds.identity : `${creds.identity}\n`,
    {
      mode: 0o600,
    },
  );
  await writeFile(knownHosts, creds.knownHosts, { mode: 0o600 });
  return { identity, knownHosts };
}

/** Fetches the GitSync's ref into its cache and checks it out. */
export async function fetchGitSource(req: SourceRequest): Promise<FetchedSource> {
  const creds = await readCredentials(req);
  const homeDir = join(req.settings.stateDir, "home");
  const credsRoot = join(req.settings.stateDir, "credentials");
  await mkdir(homeDir, { recursive: true, mode: 0o700 });
  await mkdir(credsRoot, { recursive: true, mode: 0o700 });
  const credsDir = await mkdtemp(join(credsRoot, "fetch-"));
  try {
    const files = await sshFiles(creds, credsDir);
    const env = gitEnvironment({
      creds,
      url: req.spec.url,
      searchPath: req.settings.searchPath,
      homeDir,
      ...(files === undefined ? {} : { sshFiles: files }),
    });
    return await fetchSource({
      url: req.spec.url,
      ref: req.spec.ref,
      dir: cacheDir(req),
      run: {
        git: req.settings.git,
        env,
        signal: req.signal,
        timeoutMs: req.settings.timeoutMs,
      },
      secrets: secretValues(creds),
      hasCredentials: creds.kind !== "none",
    });
  } finally {
    await rm(credsDir, { recursive: true, force: true });
  }
}
