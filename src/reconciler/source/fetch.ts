import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { GuardError } from "../../errors.js";
import type { GitRef } from "../gitsync.js";
import { classifyGitFailure, redact } from "./classify.js";
import { runGit, type RunGitOptions } from "./run-git.js";

/**
 * Fetches one ref, shallow, into a repository cached between syncs, and checks it out. The cache
 * makes a fetch of an unchanged ref cost one round trip; a failed fetch leaves the last checkout
 * (and so the cluster) as it was.
 */
export interface FetchInput {
  readonly url: string;
  readonly ref: GitRef;
  /** The cache repository of this GitSync (created on first use). */
  readonly dir: string;
  readonly run: Omit<RunGitOptions, "cwd">;
  /** Values to scrub from git's output before it reaches an error message. */
  readonly secrets: readonly string[];
  /** Credentials were given (for the wording of an authentication failure). */
  readonly hasCredentials: boolean;
}

export interface FetchedSource {
  /** The full commit id checked out in dir. */
  readonly commit: string;
  readonly dir: string;
}

function describeRef(ref: GitRef): string {
  return ref.kind === "head" ? "the default branch (HEAD)" : `${ref.kind} ${ref.name}`;
}

/** What `git fetch` is asked for: a full ref name, or a commit id (protocol v2 allows it). */
export function refspecOf(ref: GitRef): string {
  switch (ref.kind) {
    case "branch":
      return `refs/heads/${ref.name}`;
    case "tag":
      return `refs/tags/${ref.name}`;
    case "commit":
    case "head":
      return ref.name;
  }
}

async function git(input: FetchInput, args: readonly string[]): Promise<string> {
  const result = await runGit(args, { ...input.run, cwd: input.dir });
  if (result.ok) return result.stdout.trim();
  const failure = classifyGitFailure(
    redact(result.stderr, input.secrets),
    describeRef(input.ref),
    input.hasCredentials,
  );
  throw new GuardError(failure.code, redact(failure.message, input.secrets), {
    details: { reason: failure.reason },
  });
}

async function ensureRepository(input: FetchInput): Promise<void> {
  if (existsSync(join(input.dir, ".git", "HEAD"))) return;
  await rm(input.dir, { recursive: true, force: true });
  await mkdir(input.dir, { recursive: true });
  await git(input, ["init", "--quiet"]);
}

export async function fetchSource(input: FetchInput): Promise<FetchedSource> {
  await ensureRepository(input);
  const fetchArgs = ["fetch", "--quiet", "--depth=1", "--no-tags", "--no-recurse-submodules"];
  try {
    await git(input, [...fetchArgs, "--", input.url, refspecOf(input.ref)]);
  } catch (err: unknown) {
    // A leftover lock from a killed run must not fail every later sync: start over next time.
    if (existsSync(join(input.dir, ".git", "shallow.lock")))
      await rm(input.dir, { recursive: true });
    throw err;
  }
  const commit = await git(input, ["rev-parse", "--verify", "FETCH_HEAD^{commit}"]);
  await git(input, ["checkout", "--quiet", "--force", "--detach", commit]);
  // Nothing but Git's content may be rendered: drop files a previous run could have left.
  await git(input, ["clean", "-ffdxq"]);
  return { commit, dir: input.dir };
}
