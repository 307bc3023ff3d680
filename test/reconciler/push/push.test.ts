// The push endpoint's pure parts: signatures (GitHub's published test vector, GitLab's token,
// generic HMAC), payloads as GitHub and GitLab send them, and which GitSyncs follow a push.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isGuardError, ErrorCodes } from "../../../src/errors.js";
import { followsPush, repositoryKey } from "../../../src/reconciler/push/match.js";
import { parsePush, type PushEvent } from "../../../src/reconciler/push/payload.js";
import { verifyPush } from "../../../src/reconciler/push/signature.js";

const body = Buffer.from("Hello, World!");
const SECRETS = { github: "It's a Secret to Everybody", gitlab: "gl-token", generic: "shh" };

describe("verifyPush", () => {
  it("accepts GitHub's documented example signature", () => {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    const headers = {
      "x-github-event": "push",
      "x-hub-signature-256":
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    };
    expect(verifyPush(headers, body, SECRETS)).toEqual({
      ok: true,
      provider: "github",
      event: "push",
    });
  });

  it.each([
    [{ "x-github-event": "push" }, "it carries no signature (X-Hub-Signature-256)"],
    [
      { "x-github-event": "push", "x-hub-signature-256": `sha256=${"0".repeat(64)}` },
      "its signature does not match (X-Hub-Signature-256)",
    ],
    [
      { "x-github-event": "push", "x-hub-signature-256": "sha1=abc" },
      "its signature uses sha1: only sha256= and sha512= are accepted (X-Hub-Signature-256)",
    ],
    [
      { "x-github-event": "push", "x-hub-signature-256": "sha256=not-hex" },
      "its signature does not match (X-Hub-Signature-256)",
    ],
    [{ "x-gitlab-event": "Push Hook" }, "it carries no X-Gitlab-Token (X-Gitlab-Token)"],
    [
      { "x-gitlab-event": "Push Hook", "x-gitlab-token": "gl-tokeN" },
      "its token does not match (X-Gitlab-Token)",
    ],
    [{}, "it carries no signature (X-Signature)"],
  ])("refuses %j: %s", (headers, reason) => {
    const verdict = verifyPush(headers, body, SECRETS);
    expect(verdict).toMatchObject({ ok: false, reason });
  });

  it("accepts GitLab's token and a generic sha512 HMAC", () => {
    const gitlab = { "x-gitlab-event": "Push Hook", "x-gitlab-token": "gl-token" };
    expect(verifyPush(gitlab, body, SECRETS)).toMatchObject({ ok: true, provider: "gitlab" });
    const mac = createHmac("sha512", "shh").update(body).digest("hex");
    const generic = { "x-signature": `sha512=${mac}` };
    expect(verifyPush(generic, body, SECRETS)).toMatchObject({ ok: true, provider: "generic" });
    // One byte more in the body and the same signature no longer holds.
    expect(verifyPush(generic, Buffer.concat([body, Buffer.from(" ")]), SECRETS).ok).toBe(false);
  });

  it("refuses every sender whose secret is not configured", () => {
    const mac = createHmac("sha256", "").update(body).digest("hex");
    const verdict = verifyPush({ "x-signature": `sha256=${mac}` }, body, { github: "x" });
    expect(verdict).toMatchObject({
      ok: false,
      reason: "no generic secret is configured for pushes",
    });
  });
});

describe("parsePush", () => {
  it("reads a GitHub push: every clone URL, the ref, the default branch and the commit", () => {
    const payload = {
      ref: "refs/heads/main",
      after: "a".repeat(40),
      repository: {
        clone_url: "https://github.com/acme/apps.git",
        ssh_url: "git@github.com:acme/apps.git",
        html_url: "https://github.com/acme/apps",
        default_branch: "main",
      },
    };
    expect(parsePush("github", "push", Buffer.from(JSON.stringify(payload)))).toEqual({
      kind: "push",
      repositories: [
        "https://github.com/acme/apps.git",
        "git@github.com:acme/apps.git",
        "https://github.com/acme/apps",
      ],
      ref: "refs/heads/main",
      defaultBranch: "main",
      commit: "a".repeat(40),
    });
  });

  it("reads a GitLab tag push", () => {
    const payload = {
      object_kind: "tag_push",
      ref: "refs/tags/v1.2.0",
      checkout_sha: "b".repeat(40),
      project: {
        git_http_url: "https://gitlab.example/acme/apps.git",
        git_ssh_url: "git@gitlab.example:acme/apps.git",
        default_branch: "main",
      },
    };
    const push = parsePush("gitlab", "Tag Push Hook", Buffer.from(JSON.stringify(payload)));
    expect(push).toMatchObject({ kind: "push", ref: "refs/tags/v1.2.0", commit: "b".repeat(40) });
  });

  it("answers pings and other events without reading them", () => {
    expect(parsePush("github", "ping", Buffer.from("{}"))).toEqual({ kind: "ping", event: "ping" });
    expect(parsePush("github", "issues", Buffer.from("not json"))).toEqual({
      kind: "ignored",
      event: "issues",
    });
    expect(parsePush("gitlab", "Merge Request Hook", Buffer.alloc(0)).kind).toBe("ignored");
  });

  it.each([
    ["not json", "the push payload is not JSON"],
    ["[1]", "the push payload is not a JSON object"],
    ['{"ref":"refs/heads/main"}', "the push payload names no repository URL"],
  ])("refuses %s with its own message", (text, message) => {
    let caught: unknown;
    try {
      parsePush("generic", "push", Buffer.from(text));
    } catch (err: unknown) {
      caught = err;
    }
    expect(isGuardError(caught, ErrorCodes.PUSH_PAYLOAD_INVALID)).toBe(true);
    expect((caught as Error).message).toBe(message);
  });
});

describe("which GitSyncs follow a push", () => {
  it.each([
    ["https://github.com/acme/apps.git", "github.com/acme/apps"],
    ["https://GitHub.com/acme/apps/", "github.com/acme/apps"],
    ["https://token:x@github.com:443/acme/apps.git", "github.com/acme/apps"],
    ["git@github.com:acme/apps.git", "github.com/acme/apps"],
    ["ssh://git@github.com/acme/apps", "github.com/acme/apps"],
    ["ssh://git@github.com:2222/acme/apps.git", "github.com/acme/apps"],
    ["file:///srv/git/apps.git", "/srv/git/apps"],
  ])("%s is %s", (url, key) => {
    expect(repositoryKey(url)).toBe(key);
  });

  const push = (ref?: string, defaultBranch?: string): Extract<PushEvent, { kind: "push" }> => ({
    kind: "push",
    repositories: ["https://github.com/acme/apps.git", "git@github.com:acme/apps.git"],
    ...(ref === undefined ? {} : { ref }),
    ...(defaultBranch === undefined ? {} : { defaultBranch }),
  });
  const url = "ssh://git@github.com/acme/apps.git";

  it("follows the pushed branch or tag, the default branch, and any ref when none is named", () => {
    const main = { kind: "branch", name: "main" } as const;
    expect(followsPush({ url, ref: main }, push("refs/heads/main"))).toBe(true);
    expect(followsPush({ url, ref: main }, push("refs/heads/dev"))).toBe(false);
    expect(followsPush({ url, ref: main }, push("refs/tags/main"))).toBe(false);
    const tag = { kind: "tag", name: "v1" } as const;
    expect(followsPush({ url, ref: tag }, push("refs/tags/v1"))).toBe(true);
    const head = { kind: "head", name: "HEAD" } as const;
    expect(followsPush({ url, ref: head }, push("refs/heads/trunk", "trunk"))).toBe(true);
    expect(followsPush({ url, ref: head }, push("refs/heads/dev", "trunk"))).toBe(false);
    expect(followsPush({ url, ref: main }, push())).toBe(true);
  });

  it("never follows for a pinned commit or another repository", () => {
    const commit = { kind: "commit", name: "c".repeat(40) } as const;
    expect(followsPush({ url, ref: commit }, push("refs/heads/main"))).toBe(false);
    expect(followsPush({ url, ref: commit }, push())).toBe(false);
    const other = "https://github.com/acme/apps-other.git";
    expect(followsPush({ url: other, ref: { kind: "branch", name: "main" } }, push())).toBe(false);
  });
});
