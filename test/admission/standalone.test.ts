/**
 * `gitops-guard webhook`: the webhook without a cluster. In-process for the decisions and the
 * errors, once as a real process (the CLI as users run it), and a check that its start-up path
 * never loads the Kubernetes client.
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startStandaloneWebhook } from "../../src/admission/standalone.js";
import { ErrorCodes } from "../../src/errors.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";
import { FIXTURES_DIR, fixtureText } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "gg-standalone-"));
const ca = makeTestCa();
const serving = makeServingCert(ca, ["127.0.0.1"]);
const files = {
  policy: join(dir, "policy.yaml"),
  cert: join(dir, "tls.crt"),
  key: join(dir, "tls.key"),
};
copyFileSync(join(FIXTURES_DIR, "guardpolicy-default.yaml"), files.policy);
writeFileSync(files.cert, serving.cert);
writeFileSync(files.key, serving.key);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function review(url: string, fixture: string): Promise<{ allowed: boolean; message?: string }> {
  return new Promise((done, fail) => {
    const req = request(
      `${url}/validate`,
      { method: "POST", ca: ca.cert, headers: { "Content-Type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          const body = JSON.parse(text) as {
            response: { allowed: boolean; status?: { message: string } };
          };
          done({
            allowed: body.response.allowed,
            ...(body.response.status ? { message: body.response.status.message } : {}),
          });
        });
      },
    );
    req.on("error", fail);
    req.end(fixtureText(fixture));
  });
}

const options = {
  listen: "127.0.0.1:0",
  tlsCert: files.cert,
  tlsKey: files.key,
  logger: createLogger({ level: "silent" }),
  clock: realClock(),
};

describe("the standalone webhook", () => {
  it("judges AdmissionReviews with the policies of a file", async () => {
    const webhook = await startStandaloneWebhook({
      ...options,
      policyFiles: [files.policy],
      metrics: createMetrics(),
    });
    const abort = new AbortController();
    const serving = webhook.run(abort.signal);
    expect(webhook.policies).toBe(1);
    const denied = await review(webhook.server.url, "08-update-deployment-kubectl-patch.json");
    expect(denied.allowed).toBe(false);
    expect(denied.message).toContain("(GuardPolicy default)");
    expect((await review(webhook.server.url, "06-update-pod-status-by-kubelet.json")).allowed).toBe(
      true,
    );
    abort.abort();
    await serving;
  });

  it("refuses to start without a valid policy, naming the file and the field", async () => {
    const start = (policyFiles: string[]) =>
      startStandaloneWebhook({ ...options, policyFiles, metrics: createMetrics() });
    await expect(start([join(dir, "missing.yaml")])).rejects.toMatchObject({
      code: ErrorCodes.POLICY_INVALID,
      message: expect.stringContaining("--policy") as unknown,
    });
    const empty = join(dir, "empty.yaml");
    writeFileSync(empty, "# nothing\n");
    await expect(start([empty])).rejects.toThrow(/no GuardPolicy in/);
    const invalid = join(dir, "invalid.yaml");
    writeFileSync(
      invalid,
      "apiVersion: gitops-guard.io/v1alpha1\nkind: GuardPolicy\nmetadata: {name: x}\nspec: {mode: Sometimes}\n",
    );
    await expect(start([invalid])).rejects.toThrow(/document 1: .*spec\.mode/);
  });

  it("runs as `gitops-guard webhook` and stops on SIGTERM", async () => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/bin.ts",
        "webhook",
        "--policy",
        files.policy,
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        files.cert,
        "--tls-key",
        files.key,
        "--log-level",
        "warn",
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    const url = await new Promise<string>((done, fail) => {
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        const match = /serving (https:\/\/\S+)\/validate/.exec(out);
        if (match?.[1] !== undefined) done(match[1]);
      });
      child.on("exit", (code) => {
        fail(new Error(`exited ${String(code)}: ${out}`));
      });
    });
    const startupMs = performance.now() - started;
    expect(out).toContain("1 GuardPolicies");
    expect((await review(url, "09-delete-deployment-kubectl.json")).allowed).toBe(false);
    const exited = new Promise<number | null>((done) => child.on("exit", done));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(startupMs).toBeLessThan(15_000);
  });

  it("never loads the Kubernetes client on its start-up path", () => {
    // The modules `gitops-guard webhook` imports, and everything they import statically.
    const entries = [
      "src/cli/webhook.ts",
      "src/admission/standalone.ts",
      "src/telemetry/log.ts",
      "src/telemetry/metrics.ts",
    ];
    const seen = new Set<string>();
    const external = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const [, spec] of text.matchAll(
        /^(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+"([^"]+)"/gm,
      )) {
        if (spec === undefined) continue;
        if (!spec.startsWith(".")) external.add(spec);
        else visit(join(dirname(file), spec).replace(/\.js$/, ".ts"));
      }
    };
    for (const entry of entries) visit(resolve(ROOT, entry).slice(ROOT.length));
    expect(seen.size).toBeGreaterThan(10);
    expect([...external]).not.toContain("@kubernetes/client-node");
    // kubeconfig-merge.ts is pure data (config.ts splits KUBECONFIG with it): no client, no I/O.
    const kube = [...seen].filter((f) => f.startsWith("src/kube/"));
    expect(kube.filter((f) => f !== "src/kube/kubeconfig-merge.ts")).toEqual([]);
  });
});
