/**
 * Runs the *.netns.test.ts files (the online --fetch-cert, --validate and --re-encrypt paths
 * through the API server's service proxy) in a network namespace of their own, where a
 * control plane of their own can reach the controller at a non-loopback address that nothing
 * outside can reach. Their results come back as vitest's JSON report, and every one must pass.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { runInIsolatedNetwork } from "../envtest/netns.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TIMEOUT_MS = 300_000;

interface Report {
  numTotalTests: number;
  numPassedTests: number;
  testResults: {
    assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
  }[];
}

it(
  "kubeseal and seal reach the controller through the service proxy (own network namespace)",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "gg-netns-"));
    try {
      const reportFile = join(dir, "report.json");
      const run = await runInIsolatedNetwork(
        process.execPath,
        [
          join(ROOT, "node_modules/vitest/vitest.mjs"),
          "run",
          "--project",
          "netns",
          "--reporter=json",
          `--outputFile=${reportFile}`,
        ],
        { cwd: ROOT, timeoutMs: TIMEOUT_MS - 10_000 },
      );
      let report: Report;
      try {
        report = JSON.parse(readFileSync(reportFile, "utf8")) as Report;
      } catch {
        throw new Error(`the namespaced run wrote no report (exit ${run.code}):\n${run.output}`);
      }
      const failures = report.testResults
        .flatMap((f) => f.assertionResults)
        .filter((a) => a.status !== "passed")
        .map((a) => `${a.fullName}: ${a.status}\n${a.failureMessages.join("\n")}`);
      expect(failures).toEqual([]);
      expect(report.numTotalTests).toBeGreaterThanOrEqual(4);
      expect(report.numPassedTests).toBe(report.numTotalTests);
      expect(run.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  TIMEOUT_MS,
);
