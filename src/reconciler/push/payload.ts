/**
 * What a push names: the repository (every URL the sender gives for it), the ref and the
 * commit. Pure. GitHub and GitLab payloads are read as their documentation describes; a
 * generic sender posts {"url": "...", "ref": "refs/heads/main"} (ref optional: all refs).
 */
import { ErrorCodes, GuardError } from "../../errors.js";
import type { PushProvider } from "./signature.js";

export type PushEvent =
  | { readonly kind: "ping" | "ignored"; readonly event: string }
  | {
      readonly kind: "push";
      readonly repositories: readonly string[];
      /** refs/heads/<branch> or refs/tags/<tag>; undefined: any ref of the repository. */
      readonly ref?: string;
      /** The repository's default branch when the sender says (GitHub does). */
      readonly defaultBranch?: string;
      readonly commit?: string;
    };

type Json = Record<string, unknown>;

const GITHUB_PUSH = new Set(["push"]);
const GITLAB_PUSH = new Set(["Push Hook", "Tag Push Hook"]);

function invalid(why: string): GuardError {
  return new GuardError(ErrorCodes.PUSH_PAYLOAD_INVALID, `the push payload ${why}`);
}

function object(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Json)
    : {};
}

function strings(...values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === "string" && v !== "");
}

function parseJson(body: Buffer): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString("utf8")) as unknown;
  } catch {
    throw invalid("is not JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw invalid("is not a JSON object");
  }
  return doc as Json;
}

function push(
  repositories: string[],
  fields: { ref?: unknown; defaultBranch?: unknown; commit?: unknown },
): PushEvent {
  if (repositories.length === 0) throw invalid("names no repository URL");
  const [ref] = strings(fields.ref);
  const [defaultBranch] = strings(fields.defaultBranch);
  const [commit] = strings(fields.commit);
  return {
    kind: "push",
    repositories,
    ...(ref === undefined ? {} : { ref }),
    ...(defaultBranch === undefined ? {} : { defaultBranch }),
    ...(commit === undefined ? {} : { commit }),
  };
}

function github(doc: Json): PushEvent {
  const repo = object(doc["repository"]);
  return push(strings(repo["clone_url"], repo["ssh_url"], repo["git_url"], repo["html_url"]), {
    ref: doc["ref"],
    defaultBranch: repo["default_branch"],
    commit: doc["after"],
  });
}

function gitlab(doc: Json): PushEvent {
  const project = object(doc["project"]);
  const repo = object(doc["repository"]);
  return push(
    strings(
      project["git_http_url"],
      project["git_ssh_url"],
      project["web_url"],
      repo["git_http_url"],
      repo["git_ssh_url"],
    ),
    {
      ref: doc["ref"],
      defaultBranch: project["default_branch"],
      commit: doc["checkout_sha"] ?? doc["after"],
    },
  );
}

function generic(doc: Json): PushEvent {
  return push(strings(doc["url"], doc["repository"]), { ref: doc["ref"], commit: doc["commit"] });
}

export function parsePush(provider: PushProvider, event: string, body: Buffer): PushEvent {
  if (provider === "github" && event === "ping") return { kind: "ping", event };
  if (provider === "github" && !GITHUB_PUSH.has(event)) return { kind: "ignored", event };
  if (provider === "gitlab" && !GITLAB_PUSH.has(event)) return { kind: "ignored", event };
  const doc = parseJson(body);
  if (provider === "github") return github(doc);
  return provider === "gitlab" ? gitlab(doc) : generic(doc);
}
