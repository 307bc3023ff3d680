// The example Git repository the demo syncs: examples/shop and examples/charts committed into a fresh repository
// with the git CLI, so the reconciler pulls real Git.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

const GIT_ENV = {
  GIT_AUTHOR_NAME: "demo",
  GIT_AUTHOR_EMAIL: "demo@example.invalid",
  GIT_COMMITTER_NAME: "demo",
  GIT_COMMITTER_EMAIL: "demo@example.invalid",
  PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
  HOME: tmpdir(),
};

export interface ExampleRepo {
  readonly dir: string;
  /** Writes a file, commits it, and returns the new commit's short hash. */
  commit(path: string, text: string, message: string): string;
  /** `git revert --no-edit HEAD`; returns the new commit's short hash. */
  revertHead(): string;
}

export function exampleRepo(): ExampleRepo {
  const dir = mkdtempSync(join(tmpdir(), "gg-demo-repo-"));
  const git = (...args: string[]): string =>
    execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" }).trim();
  git("init", "-q", "-b", "main");
  cpSync(join(EXAMPLES, "shop"), join(dir, "shop"), { recursive: true });
  cpSync(join(EXAMPLES, "charts"), join(dir, "charts"), { recursive: true });
  git("add", ".");
  git(
    "commit",
    "-q",
    "-m",
    "shop: settings, web, the payments API token (SOPS) and the banner chart",
  );
  return {
    dir,
    commit(path, text, message) {
      writeFileSync(join(dir, path), text);
      git("add", path);
      git("commit", "-q", "-m", message);
      return git("rev-parse", "--short", "HEAD");
    },
    revertHead() {
      git("revert", "--no-edit", "HEAD");
      return git("rev-parse", "--short", "HEAD");
    },
  };
}
