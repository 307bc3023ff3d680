// gitops-guard's CLI run in-process, its output captured, as a user would type it.
import { hostname } from "node:os";
import { runCli } from "../../src/cli/run-cli.js";

export async function cli(args: readonly string[], stdin?: string): Promise<string> {
  let out = "";
  const code = await runCli(["node", "gitops-guard", ...args], {
    run: () => Promise.resolve(),
    env: {},
    hostname: hostname(),
    output: { writeOut: (t) => (out += t), writeErr: (t) => (out += t) },
    ...(stdin === undefined ? {} : { readStdin: () => Promise.resolve(Buffer.from(stdin)) }),
  });
  if (code !== 0) throw new Error(`gitops-guard ${args.join(" ")} exited ${String(code)}: ${out}`);
  return out;
}
