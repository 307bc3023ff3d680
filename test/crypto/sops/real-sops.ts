/**
 * The real sops (github.com/getsops/sops/v3 v3.13.3, pinned in test/tools/sops) for tests:
 * built once into the user's cache folder, run in a private folder with a clean environment
 * so no user config, key file or AWS setting leaks in.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ensureGoTool } from "../../tools/go-tools.js";

export { GO_TOOL_BUILD_TIMEOUT_MS } from "../../tools/go-tools.js";

export interface RealSops {
  readonly dir: string;
  /** Writes a file (folders made as needed) in the private folder and returns its path. */
  write(name: string, content: string | Uint8Array): string;
  /** Runs sops with args; env adds to a clean environment. Rejects with sops's stderr. */
  run(
    args: readonly string[],
    env?: Readonly<Record<string, string>>,
    cwd?: string,
  ): Promise<Buffer>;
  close(): void;
}

export function realSops(): RealSops {
  const binary = ensureGoTool("sops");
  const dir = mkdtempSync(join(tmpdir(), "gg-sops-"));
  const home = join(dir, "home");
  return {
    dir,
    write(name, content) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      return path;
    },
    run(args, env = {}, cwd = dir) {
      const clean = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...env };
      return new Promise((resolve, reject) => {
        execFile(
          binary,
          [...args],
          { cwd, env: clean, encoding: "buffer", maxBuffer: 16 * 1024 * 1024 },
          (err, stdout, stderr) => {
            if (err === null) resolve(stdout);
            else reject(new Error(`sops ${args.join(" ")}: ${stderr.toString("utf8")}`));
          },
        );
      });
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Parses JSON keeping every number as its source text, so big integers compare exactly and
 * two JSON printers that differ only in spacing compare equal.
 */
export function exactJson(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === "number" ? `#${context?.source ?? String(value)}` : value,
  ) as unknown;
}
