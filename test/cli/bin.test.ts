import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { delimiter, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const bin = resolve(root, "node_modules/.bin");
const version = (
  JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as { version: string }
).version;

/** The environment without GITOPS_GUARD_* and with the project's Node 24 first on PATH. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("GITOPS_GUARD_")),
  );
  return { ...env, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` };
}

/** Runs `tsx src/cli/bin.ts ...args` as a real process. */
async function gitopsGuard(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(resolve(bin, "tsx"), ["src/cli/bin.ts", ...args], {
      cwd: root,
      env: cleanEnv(),
    });
    return { code: 0, stdout, stderr };
  } catch (err: unknown) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("the gitops-guard executable", () => {
  it("prints its version", async () => {
    const result = await gitopsGuard("--version");
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it("prints its help", async () => {
    const result = await gitopsGuard("--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: gitops-guard [options] [command]");
    expect(result.stdout).toContain("run [options]");
  });

  it("exits 1 with 'error CODE: message' for an invalid configuration", async () => {
    const result = await gitopsGuard("run", "--webhook-listen", "abc");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error GG_CONFIG_INVALID: invalid configuration: webhookListen "abc" (from flag --webhook-listen) must be host:port with a port in 0-65535\n',
    );
  });
});
