// CLI start-up: `gitops-guard seal --cert FILE`, sealing a Secret from stdin, run as users run
// it (the package's bin, built by `npm run build`, started through its #! line with this
// bench's Node 24 first on PATH), against Node's empty start on the same binary (`node -e 0`)
// and against kubeseal, built from the Go module proxy. Goal: seal within 20 ms of Node's empty
// start, medians of the same run. Alternating rounds (one run of each case per round) after one
// warm-up round, so a busy machine slows every case alike; at most RUNS rounds and BUDGET_MS.
// HOME is a fresh folder, so the compile cache starts empty; the warm-up round fills it, as a
// user's first run does. "first run" runs with an empty compile cache every time.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSealingKey } from "../../src/crypto/sealing/keygen.js";
import { ensureGoTool } from "../tools/go-tools.js";
import { ensureBuilt } from "./bitnami-controller.js";
import { fmt, median } from "./stats.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const GOAL_MS = 20;
const RUNS = 30;
const BUDGET_MS = 180_000;

interface Case {
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly input: string;
  /** A fresh NODE_COMPILE_CACHE folder for every run: the first run after an install. */
  readonly coldCache?: boolean;
}

const SECRET_JSON = JSON.stringify({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "db", namespace: "prod" },
  stringData: { password: "hunter2", user: "admin" },
});
const SECRET_YAML =
  "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringData:\n  password: hunter2\n  user: admin\n";

/** The executable package.json names for gitops-guard, after `npm run build` if it is stale. */
function shippedBin(): string {
  ensureBuilt();
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    bin: Record<string, string>;
  };
  const bin = pkg.bin["gitops-guard"];
  if (bin === undefined) throw new Error('package.json has no bin "gitops-guard"');
  return join(ROOT, bin);
}

function runOnce(c: Case, env: NodeJS.ProcessEnv, dir: string): number {
  const cache = c.coldCache === true ? mkdtempSync(join(dir, "cold-cache-")) : undefined;
  const start = performance.now();
  const result = spawnSync(c.command, c.args, {
    input: c.input,
    env: cache === undefined ? env : { ...env, NODE_COMPILE_CACHE: cache },
  });
  const ms = performance.now() - start;
  if (cache !== undefined) rmSync(cache, { recursive: true, force: true });
  if (result.status !== 0) {
    throw new Error(`${c.label} exited ${String(result.status)}: ${result.stderr.toString()}`);
  }
  return ms;
}

/** Each case once per round, the first round a warm-up; wall times in ms by label. */
function measure(
  cases: readonly Case[],
  env: NodeJS.ProcessEnv,
  dir: string,
): Map<string, number[]> {
  const times = new Map<string, number[]>(cases.map((c) => [c.label, []]));
  const deadline = performance.now() + BUDGET_MS;
  for (let round = 0; round <= RUNS && performance.now() < deadline; round++) {
    for (const c of cases) {
      const ms = runOnce(c, env, dir);
      if (round > 0) times.get(c.label)?.push(ms);
    }
  }
  return times;
}

const signed = (ms: number): string => `${ms >= 0 ? "+" : "-"}${fmt(Math.abs(ms))}`;

function line(label: string, values: readonly number[], floor: number): string {
  const m = median(values);
  const range = `${fmt(Math.min(...values))}-${fmt(Math.max(...values))}`;
  return `${label.padEnd(56)} median ${fmt(m).padStart(6)} ms  range ${range.padStart(13)} ms  ${signed(m - floor).padStart(7)} ms  x${fmt(m / floor, 2)}`;
}

const NODE = "node -e 0 (Node's empty start)";
const OURS = "gitops-guard seal --cert (JSON in and out)";
const KUBESEAL = "kubeseal --cert (JSON in and out)";

function startupCases(bin: string, kubeseal: string, cert: string): Case[] {
  const seal = ["seal", "--cert", cert];
  return [
    { label: NODE, command: process.execPath, args: ["-e", "0"], input: "" },
    { label: OURS, command: bin, args: seal, input: SECRET_JSON },
    {
      label: "gitops-guard seal --cert -o yaml (YAML in and out)",
      command: bin,
      args: [...seal, "-o", "yaml"],
      input: SECRET_YAML,
    },
    {
      label: "gitops-guard seal --cert, first run (no compile cache)",
      command: bin,
      args: seal,
      input: SECRET_JSON,
      coldCache: true,
    },
    { label: KUBESEAL, command: kubeseal, args: ["--cert", cert], input: SECRET_JSON },
  ];
}

function report(cases: readonly Case[], times: ReadonlyMap<string, number[]>): void {
  const at = (label: string): number[] => times.get(label) ?? [];
  const floor = median(at(NODE));
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `${String(at(NODE).length)} alternating rounds, wall time per run; Node ${process.version}, ${String(cpus().length)} x ${cpu}`,
  );
  console.log(`${"".padEnd(56)} ${"".padEnd(41)} over node -e 0, ratio`);
  for (const c of cases) console.log(line(c.label, at(c.label), floor));
  const ours = median(at(OURS));
  console.log(`gitops-guard seal / kubeseal: x${fmt(ours / median(at(KUBESEAL)), 2)}`);
  const over = ours - floor;
  console.log(
    `goal: seal within ${String(GOAL_MS)} ms of Node's empty start: ${signed(over)} ms, ${over <= GOAL_MS ? "PASS" : "MISS"}`,
  );
}

async function main(): Promise<void> {
  const bin = shippedBin();
  const kubeseal = ensureGoTool("kubeseal");
  const dir = mkdtempSync(join(tmpdir(), "gg-bench-startup-"));
  try {
    const key = await generateSealingKey({ now: Date.now() - 60_000 });
    const cert = join(dir, "cert.pem");
    writeFileSync(cert, key.certificatePem);
    // The #! line (`env node`) finds this bench's Node first; HOME holds the compile cache.
    const path = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`;
    const cases = startupCases(bin, kubeseal, cert);
    report(cases, measure(cases, { PATH: path, HOME: dir }, dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
