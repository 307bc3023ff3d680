// A real Git repository in a temp folder, driven with the git CLI, for the reconciler's tests.
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

import { tempDir } from "./temp.js";

const exec = promisify(execFile);

/** git's environment for tests: no user config, fixed identity and dates. */
export function testGitEnv(home: string): Record<string, string> {
  return {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "Test Author",
    GIT_AUTHOR_EMAIL: "author@example.test",
    GIT_COMMITTER_NAME: "Test Author",
    GIT_COMMITTER_EMAIL: "author@example.test",
    LANG: "C",
  };
}

export class GitRepo {
  readonly dir: string;
  private readonly env: Record<string, string>;

  private constructor(dir: string, env: Record<string, string>) {
    this.dir = dir;
    this.env = env;
  }

  /** A new repository with branch main (no commit yet), in a temp folder or under parent. */
  static async create(parent?: string, name = "repo.git"): Promise<GitRepo> {
    const base = parent ?? tempDir("gg-git-");
    const dir = join(base, name);
    mkdirSync(dir, { recursive: true });
    const repo = new GitRepo(dir, testGitEnv(base));
    await repo.git("init", "--quiet", "--initial-branch=main");
    // Lets the smart HTTP test server (git http-backend) serve it without a user check.
    await repo.git("config", "http.receivepack", "false");
    return repo;
  }

  get url(): string {
    return `file://${this.dir}`;
  }

  async git(...args: string[]): Promise<string> {
    const { stdout } = await exec("git", args, { cwd: this.dir, env: this.env, encoding: "utf8" });
    return stdout.trim();
  }

  /** Writes (string) or deletes (null) files, then commits everything; returns the commit id. */
  async commit(
    message: string,
    files: Readonly<Record<string, string | null>> = {},
  ): Promise<string> {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (content === null) {
        rmSync(full, { force: true, recursive: true });
        continue;
      }
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
    await this.git("add", "--all");
    await this.git("commit", "--quiet", "--allow-empty", "-m", message);
    return this.head();
  }

  async head(): Promise<string> {
    return this.git("rev-parse", "HEAD");
  }

  /** Reverts the last commit with a new commit; returns its id. */
  async revertLast(): Promise<string> {
    await this.git("revert", "--no-edit", "HEAD");
    return this.head();
  }

  async tag(name: string): Promise<void> {
    await this.git("tag", "-a", name, "-m", name);
  }
}
