import { execFile } from "node:child_process";
import { join } from "node:path";
import { ErrorCodes, GuardError } from "../../errors.js";
import { parseManifests, type RenderedObject } from "./manifests.js";

export interface KustomizeSettings {
  /** The kustomize binary: a path, or a name looked up on searchPath. */
  readonly kustomize: string;
  readonly searchPath: string;
  /** An empty HOME of ours, so no user plugin or config is picked up. */
  readonly homeDir: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Trims kustomize's stderr to what says why (its usage text is noise). */
function why(stderr: string, fallback: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("Usage:") && !l.startsWith("Flags:"));
  const error = lines.find((l) => l.startsWith("Error:")) ?? lines[0] ?? fallback;
  return error.slice(0, 2000);
}

/**
 * `kustomize build` of one folder of the checkout (root-only load restrictions: a kustomization
 * may not read files outside the repository), parsed into objects.
 */
export function kustomizeBuild(
  root: string,
  dir: string,
  settings: KustomizeSettings,
): Promise<RenderedObject[]> {
  const source = `${dir} (kustomize build)`;
  return new Promise((resolve, reject) => {
    execFile(
      settings.kustomize,
      ["build", "--load-restrictor", "LoadRestrictionsRootOnly", join(root, dir)],
      {
        cwd: root,
        env: { PATH: settings.searchPath, HOME: settings.homeDir, LANG: "C" },
        signal: settings.signal,
        timeout: settings.timeoutMs,
        maxBuffer: 256 * 1024 * 1024,
        encoding: "utf8",
      },
      (err, stdout, stderr) => {
        if (err !== null) {
          const fallback = err.killed ? `stopped after ${settings.timeoutMs} ms` : err.message;
          reject(
            new GuardError(
              ErrorCodes.RENDER_KUSTOMIZE_FAILED,
              `${source} failed: ${why(stderr, fallback).replaceAll(root, "")}`,
              { cause: err, details: { dir } },
            ),
          );
          return;
        }
        try {
          // Lines of kustomize's output point nowhere in the repository: report the folder only.
          resolve(parseManifests(stdout, source).map((item) => ({ ...item, line: 0 })));
        } catch (parseErr: unknown) {
          reject(parseErr instanceof Error ? parseErr : new Error(String(parseErr)));
        }
      },
    );
  });
}
