/**
 * Runs gitops-guard's CLI in-process, as bin.ts would, with a given environment and stdin,
 * and collects what it printed and its exit code. Files are real, in a temporary folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import type { Environment } from "../../src/config.js";
import { runCli } from "../../src/cli/run-cli.js";

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function gitopsGuard(
  args: readonly string[],
  options: { env?: Environment; stdin?: string | Buffer } = {},
): Promise<CliResult> {
  let out = "";
  let err = "";
  const code = await runCli(["node", "gitops-guard", ...args], {
    run: () => Promise.reject(new Error("run is not under test")),
    env: options.env ?? {},
    hostname: "test-host",
    output: { writeOut: (t) => (out += t), writeErr: (t) => (err += t) },
    readStdin: () => Promise.resolve(Buffer.from(options.stdin ?? "")),
  });
  return { code, out, err };
}

/** A temporary folder removed after the file's tests; write(name, text) returns the path. */
export function workdir(prefix: string): {
  dir: string;
  write: (name: string, text: string) => string;
  path: (name: string) => string;
} {
  const dir = mkdtempSync(join(tmpdir(), `gg-${prefix}-`));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    path: (name) => join(dir, name),
    write: (name, text) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
  };
}

export const secretYaml = (
  name: string,
  namespace: string | undefined,
  data: Record<string, string>,
): string =>
  [
    "apiVersion: v1",
    "kind: Secret",
    "metadata:",
    `  name: ${name}`,
    ...(namespace === undefined ? [] : [`  namespace: ${namespace}`]),
    "stringData:",
    ...Object.entries(data).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    "",
  ].join("\n");
