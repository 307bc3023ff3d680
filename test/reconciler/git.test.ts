import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, type GuardError } from "../../src/errors.js";
import type { GitRef } from "../../src/reconciler/gitsync.js";
import { classifyGitFailure, redact } from "../../src/reconciler/source/classify.js";
import {
  credentialsFromSecret,
  isSshUrl,
  secretValues,
} from "../../src/reconciler/source/credentials.js";
import { fetchSource, refspecOf } from "../../src/reconciler/source/fetch.js";
import { gitEnvironment, httpOrigin } from "../../src/reconciler/source/git-env.js";
import { GitRepo } from "./helpers/git-repo.js";
import { removeTempDirs, tempDir } from "./helpers/temp.js";

afterAll(removeTempDirs);

const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("git failures", () => {
  it("tells auth, missing ref and unreachable apart from git's own words", () => {
    const auth = classifyGitFailure(
      "fatal: Authentication failed for 'https://git.example/x.git/'\n",
      "branch main",
    );
    expect([auth.code, auth.reason]).toEqual([ErrorCodes.GIT_AUTH_FAILED, "GitAuthFailed"]);
    expect(
      classifyGitFailure(
        "fatal: could not read Username for 'https://h': terminal prompts disabled",
        "HEAD",
        false,
      ).message,
    ).toContain("the Git server requires credentials (set spec.secretRef)");
    expect(
      classifyGitFailure(
        "Host key verification failed.\nfatal: Could not read from remote repository.",
        "HEAD",
      ).reason,
    ).toBe("GitHostKeyRejected");
    expect(
      classifyGitFailure("fatal: couldn't find remote ref refs/heads/nope", "branch nope").code,
    ).toBe(ErrorCodes.GIT_REF_NOT_FOUND);
    expect(
      classifyGitFailure("fatal: unable to access 'https://h/': Could not resolve host: h", "HEAD")
        .code,
    ).toBe(ErrorCodes.GIT_UNREACHABLE);
    const other = classifyGitFailure("warning: x\nfatal: bad object abc\n", "commit abc");
    expect([other.code, other.message]).toEqual([
      ErrorCodes.GIT_FETCH_FAILED,
      "git fetch of commit abc failed: fatal: bad object abc",
    ]);
  });

  it("scrubs credentials in URLs and known secret values", () => {
    expect(redact("fatal: unable to access 'https://user:tok3n@git.example/r.git/'", [])).toBe(
      "fatal: unable to access 'https://***@git.example/r.git/'",
    );
    expect(redact("header Bearer abcdef-secret sent", ["abcdef-secret"])).toBe(
      "header Bearer *** sent",
    );
    expect(redact("a b c", ["b"])).toBe("a b c");
  });
});

describe("git credentials and environment", () => {
  it("reads Flux's secret keys for HTTPS and SSH, naming missing keys only", () => {
    expect(credentialsFromSecret("ns/s", { bearerToken: b64("t0ken") }, "https://h/r.git")).toEqual(
      { kind: "bearer", token: "t0ken" },
    );
    expect(
      credentialsFromSecret(
        "ns/s",
        { username: b64("u"), password: b64("p4ss") },
        "https://h/r.git",
      ),
    ).toEqual({
      kind: "basic",
      username: "u",
      password: "p4ss",
    });
    expect(
      credentialsFromSecret(
        "ns/s",
        { identity: b64("KEY"), known_hosts: b64("h ssh-ed25519 AAA") },
        "git@h:r.git",
      ),
    ).toEqual({
      kind: "ssh",
      identity: "KEY",
      knownHosts: "h ssh-ed25519 AAA",
    });
    expect(() =>
      credentialsFromSecret("ns/s", { identity: b64("KEY") }, "ssh://git@h/r.git"),
    ).toThrow("Secret ns/s: an SSH URL needs known_hosts (host keys are always checked)");
    expect(() => credentialsFromSecret("ns/s", { token: b64("x") }, "https://h/r.git")).toThrow(
      /needs bearerToken, or username and password/,
    );
    expect(secretValues({ kind: "basic", username: "u", password: "p4ss" })).toContain("p4ss");
    expect(isSshUrl("git@github.com:org/repo.git")).toBe(true);
    expect(isSshUrl("https://github.com/org/repo.git")).toBe(false);
  });

  it("builds git's whole environment: no user config, no prompts, no ext::, token out of argv", () => {
    const env = gitEnvironment({
      creds: { kind: "bearer", token: "t0ken" },
      url: "https://git.example:8443/org/repo.git",
      searchPath: "/usr/bin:/bin",
      homeDir: "/state/home",
    });
    expect(env).toMatchObject({
      PATH: "/usr/bin:/bin",
      HOME: "/state/home",
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_ALLOW_PROTOCOL: "file:http:https:ssh",
      GIT_CONFIG_KEY_0: "http.https://git.example:8443/.extraHeader",
      GIT_CONFIG_VALUE_0: "Authorization: Bearer t0ken",
    });
    const ssh = gitEnvironment({
      creds: { kind: "ssh", identity: "KEY", knownHosts: "kh" },
      url: "git@h:r.git",
      searchPath: "/usr/bin",
      homeDir: "/h",
      sshFiles: { identity: "/tmp/it's/id", knownHosts: "/tmp/kh" },
    });
    expect(ssh["GIT_SSH_COMMAND"]).toContain(`-i '/tmp/it'\\''s/id'`);
    expect(ssh["GIT_SSH_COMMAND"]).toContain("-o StrictHostKeyChecking=yes");
    expect(ssh["GIT_CONFIG_COUNT"]).toBeUndefined();
    expect(httpOrigin("ssh://git@h/r.git")).toBeUndefined();
  });
});

describe("fetching a real repository (file://)", () => {
  let repo: GitRepo;
  let commits: string[];
  const state = tempDir("gg-fetch-");
  const env = gitEnvironment({
    creds: { kind: "none" },
    url: "file:///",
    searchPath: "/usr/bin:/bin",
    homeDir: state,
  });
  const fetch = (ref: GitRef, dir: string, url = repo.url): ReturnType<typeof fetchSource> =>
    fetchSource({
      url,
      ref,
      dir: join(state, dir),
      run: { git: "git", env, timeoutMs: 20_000 },
      secrets: [],
      hasCredentials: false,
    });

  beforeAll(async () => {
    repo = await GitRepo.create();
    commits = [await repo.commit("one", { "a.yaml": "a: 1\n" })];
    await repo.tag("v1");
    commits.push(await repo.commit("two", { "a.yaml": "a: 2\n" }));
    await repo.git("checkout", "--quiet", "-b", "release");
    commits.push(await repo.commit("three", { "b.yaml": "b: 3\n" }));
    await repo.git("checkout", "--quiet", "main");
  });

  it("checks out a branch, a tag, a commit and HEAD, shallow, into one cached repository", async () => {
    expect((await fetch({ kind: "branch", name: "release" }, "cache")).commit).toBe(commits[2]);
    expect((await fetch({ kind: "tag", name: "v1" }, "cache")).commit).toBe(commits[0]);
    expect((await fetch({ kind: "commit", name: commits[1]! }, "cache")).commit).toBe(commits[1]);
    const head = await fetch({ kind: "head", name: "HEAD" }, "cache");
    expect(head.commit).toBe(commits[1]);
    const shallow = execFileSync("git", ["rev-parse", "--is-shallow-repository"], {
      cwd: head.dir,
      env,
      encoding: "utf8",
    });
    expect(shallow.trim()).toBe("true");
    expect(refspecOf({ kind: "tag", name: "v1" })).toBe("refs/tags/v1");
  });

  it("fails a missing ref and a missing repository with their causes", async () => {
    const missing = (await fetch({ kind: "branch", name: "nope" }, "x").catch(
      (e: unknown) => e,
    )) as GuardError;
    expect(missing.code).toBe(ErrorCodes.GIT_REF_NOT_FOUND);
    expect(missing.message).toContain("branch nope");
    const gone = (await fetch(
      { kind: "head", name: "HEAD" },
      "y",
      "file:///nonexistent/repo.git",
    ).catch((e: unknown) => e)) as GuardError;
    expect(gone.code).toBe(ErrorCodes.GIT_UNREACHABLE);
  });

  it("refuses transports that run commands (ext::)", async () => {
    const err = (await fetch(
      { kind: "head", name: "HEAD" },
      "z",
      "ext::sh -c touch% /tmp/gg-pwned",
    ).catch((e: unknown) => e)) as GuardError;
    expect(err.code).toBe(ErrorCodes.GIT_FETCH_FAILED);
    expect(err.message).toContain("transport 'ext' not allowed");
    expect(existsSync("/tmp/gg-pwned")).toBe(false);
  });
});
