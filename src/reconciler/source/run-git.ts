import { execFile } from "node:child_process";

export interface RunGitOptions {
  readonly git: string;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
}

/** How a git run ended; stderr is raw (the caller redacts it before showing it). */
export interface GitResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs git with exactly env (never the process's environment); resolves even on failure. */
export function runGit(args: readonly string[], opts: RunGitOptions): Promise<GitResult> {
  return new Promise((resolve) => {
    execFile(
      opts.git,
      args,
      {
        env: opts.env,
        cwd: opts.cwd,
        signal: opts.signal,
        timeout: opts.timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ ok: true, stdout, stderr });
          return;
        }
        // A spawn failure or a kill has no stderr of git's; say what happened instead.
        const why = err.killed ? `git was stopped after ${opts.timeoutMs} ms` : err.message;
        resolve({ ok: false, stdout, stderr: stderr === "" ? why : stderr });
      },
    );
  });
}
