/**
 * Which GitSyncs a push concerns. Pure. Repository URLs are compared by host and path, so
 * https://github.com/org/app.git, git@github.com:org/app and ssh://git@github.com/org/app are
 * one repository; a GitSync follows the push when it tracks the pushed branch or tag (a GitSync
 * on the default branch follows pushes to it; one pinned to a commit never does).
 */
import type { GitRef } from "../gitsync.js";
import type { PushEvent } from "./payload.js";

const SCP_LIKE = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.+)$/;

/** host/path, lower-cased host, without credentials, port, ".git" or trailing slashes. */
export function repositoryKey(url: string): string {
  const trimmed = url.trim();
  let host: string;
  let path: string;
  const scp = SCP_LIKE.exec(trimmed);
  if (scp !== null && !trimmed.includes("://")) {
    host = scp[1] ?? "";
    path = scp[2] ?? "";
  } else {
    try {
      const parsed = new URL(trimmed);
      host = parsed.hostname;
      path = decodeURIComponent(parsed.pathname);
    } catch {
      return trimmed;
    }
  }
  const cleanPath = path
    .replace(/^\/+/, "")
    .replace(/\/+$/, "")
    .replace(/\.git$/, "");
  return `${host.toLowerCase()}/${cleanPath}`;
}

function refFollows(ref: GitRef, push: Extract<PushEvent, { kind: "push" }>): boolean {
  if (push.ref === undefined) return ref.kind !== "commit";
  switch (ref.kind) {
    case "branch":
      return push.ref === `refs/heads/${ref.name}`;
    case "tag":
      return push.ref === `refs/tags/${ref.name}`;
    case "head":
      return push.defaultBranch === undefined
        ? push.ref.startsWith("refs/heads/")
        : push.ref === `refs/heads/${push.defaultBranch}`;
    case "commit":
      return false;
  }
}

export interface PushTarget {
  readonly url?: string;
  readonly ref: GitRef;
}

export function followsPush(
  target: PushTarget,
  push: Extract<PushEvent, { kind: "push" }>,
): boolean {
  if (target.url === undefined) return false; // a chart alone: no repository to push to
  const key = repositoryKey(target.url);
  return push.repositories.some((r) => repositoryKey(r) === key) && refFollows(target.ref, push);
}
