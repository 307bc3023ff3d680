import { execFile, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { generateSealingKey } from "../../src/crypto/sealing/keygen.js";
import { secretYaml } from "./harness.js";

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const bin = resolve(root, "node_modules/.bin");
const version = (
  JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as { version: string }
).version;

/** A `node` on PATH, outside the project, older than 24 (the machines have Node 20). */
function findOlderNode(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const node = resolve(dir, "node");
    if (dir.includes("node_modules") || !existsSync(node)) continue;
    const major = Number(
      /^v(\d+)/.exec(execFileSync(node, ["--version"], { encoding: "utf8" }))?.[1],
    );
    if (major < 24) return node;
  }
  return undefined;
}

const olderNode = findOlderNode();

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

/**
 * Runs `tsx src/cli/bin.ts ...args | head -1`: the reader closes its end of the pipe once it has
 * the first line, as head does. Returns that line, the exit status and what went to stderr.
 */
async function firstLineOf(
  args: readonly string[],
  stdin = "",
): Promise<{ line: string; code: number | null; stderr: string }> {
  const child = spawn(resolve(bin, "tsx"), ["src/cli/bin.ts", ...args], {
    cwd: root,
    env: cleanEnv(),
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin.end(stdin);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const exited = once(child, "close") as Promise<[number | null]>;
  const lines = createInterface({ input: child.stdout });
  const [line] = (await once(lines, "line")) as [string];
  lines.close();
  child.stdout.destroy();
  const [code] = await exited;
  return { line, code, stderr };
}

// What a shell reports for a coreutils program killed by SIGPIPE: quiet, yet a pipeline under
// `set -o pipefail` still learns that not all of the output was read.
const BROKEN_PIPE = 128 + constants.signals.SIGPIPE;

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

  it("ends quietly when its reader closes the pipe early (seal --help | head -1)", async () => {
    const result = await firstLineOf(["seal", "--help"]);
    expect(result.line).toBe("Usage: gitops-guard seal [options]");
    expect(result.stderr).not.toMatch(/Unhandled|EPIPE/);
    expect(result.stderr).toBe("");
    // 0 when the help was all in the pipe before head closed it (it is two writes).
    expect([0, BROKEN_PIPE]).toContain(result.code);
  });

  it("exits 128 + SIGPIPE with nothing on stderr when its output is cut off (seal | head -1)", async () => {
    const sealing = await generateSealingKey({ now: Date.now() - 3_600_000, bits: 2048 });
    const cert = join(mkdtempSync(join(tmpdir(), "gg-bin-")), "cert.pem");
    writeFileSync(cert, sealing.certificatePem);
    // Far more than a pipe holds (64 KiB): the write is still going when head closes the pipe.
    const secret = secretYaml("big", "prod", { blob: "x".repeat(1 << 20) });
    const result = await firstLineOf(["seal", "--cert", cert], secret);
    expect(result.line).toBe("{");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(BROKEN_PIPE);
  });

  it("exits 1 with 'error CODE: message' for an invalid configuration", async () => {
    const result = await gitopsGuard("run", "--webhook-listen", "abc");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error GG_CONFIG_INVALID: invalid configuration: webhookListen "abc" (from flag --webhook-listen) must be host:port with a port in 0-65535\n',
    );
  });

  // The machines have Node 20 on PATH beside the project's Node 24.
  it.skipIf(olderNode === undefined)(
    "says which Node it needs when started by an older one, and exits 2",
    async () => {
      const node = olderNode ?? "";
      const tsx = resolve(root, "node_modules/tsx/dist/loader.mjs");
      const result = await exec(node, ["--import", tsx, "src/cli/bin.ts", "--version"], {
        cwd: root,
        env: cleanEnv(),
      }).then(
        () => ({ code: 0, stderr: "" }),
        (err: unknown) => err as { code: number; stderr: string },
      );
      const older = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
      expect(result).toMatchObject({
        code: 2,
        stderr: `error GG_NODE_TOO_OLD: gitops-guard needs Node.js 24 or later; this is ${older}\n`,
      });
    },
  );
});
