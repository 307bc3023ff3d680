/**
 * What a sync renders from: the GitSync's Git repository, or, for a chart from a chart repository
 * with no spec.url, an empty folder (the chart comes from its repository; there are no files).
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { KubeClient } from "../../kube/client.js";
import type { GitSyncSpec, HelmReleaseStatus } from "../gitsync.js";
import { formatRevision } from "../gitsync.js";
import { fetchGitSource, type GitSettings } from "./source.js";

export interface Checkout {
  readonly dir: string;
  /** The commit checked out; undefined without a Git repository. */
  readonly commit: string | undefined;
  /** Removes what only this sync used (the empty folder); a Git cache stays. */
  close(): Promise<void>;
}

export interface CheckoutRequest {
  readonly kube: KubeClient;
  readonly settings: GitSettings;
  readonly scratchDir: string;
  readonly namespace: string;
  readonly name: string;
  readonly spec: GitSyncSpec;
  readonly signal: AbortSignal;
}

export async function checkout(req: CheckoutRequest): Promise<Checkout> {
  const { url } = req.spec;
  if (url !== undefined) {
    const source = await fetchGitSource({ ...req, spec: { ...req.spec, url } });
    return { ...source, close: () => Promise.resolve() };
  }
  await mkdir(req.scratchDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(req.scratchDir, "no-git-"));
  return { dir, commit: undefined, close: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The revision a sync applies: the Git ref and commit, or for a chart alone its version and
 * archive digest (as Flux writes an OCI artifact's: 1.2.3@sha256:…), the digest standing in for
 * the commit (prune approval names it).
 */
export function revisionOf(
  ref: GitSyncSpec["ref"],
  commit: string | undefined,
  helm: HelmReleaseStatus | undefined,
): { readonly commit: string; readonly revision: string } {
  if (commit !== undefined) return { commit, revision: formatRevision(ref, commit) };
  const digest = helm?.digest ?? "";
  return { commit: digest, revision: `${helm?.version ?? "unknown"}@${digest}` };
}
