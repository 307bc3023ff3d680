/**
 * `gitops-guard audit --server` against an ops server that checks its readers on the real API
 * server: it sends the kubeconfig user's bearer token, and when refused says what is missing.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { runCli } from "../../src/cli/run-cli.js";
import { envtest } from "../envtest/context.js";
import { kubeconfigYaml } from "../envtest/kubeconfig.js";
import { serviceAccountUser } from "../helpers/ops-access.js";
import { startGuardedOps, type GuardedOps } from "../http/guarded-ops.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig for the envtest cluster whose user holds token. */
function kubeconfigWith(name: string, token: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gg-audit-kc-"));
  dirs.push(dir);
  const file = join(dir, "config");
  const info = envtest();
  writeFileSync(
    file,
    kubeconfigYaml({ name, server: info.apiServerUrl, caCert: info.caCert, token }),
  );
  return file;
}

async function audit(
  env: Readonly<Record<string, string>>,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(["node", "gitops-guard", "audit", ...args], {
    run: () => Promise.resolve(),
    env,
    hostname: "test",
    output: { writeOut: (t) => (out += t), writeErr: (t) => (err += t) },
  });
  return { code, out, err };
}

const list = (
  ops: GuardedOps,
  kubeconfig: string,
): Promise<{ code: number; out: string; err: string }> =>
  audit({}, "list", "--server", ops.url, "--kubeconfig", kubeconfig, "-o", "json");

describe("gitops-guard audit --server, against a guarded ops port", () => {
  it("reads the journal as a kubeconfig user bound to the journal-reader role", async () => {
    const ops = await startGuardedOps();
    const reader = kubeconfigWith("reader", ops.tokens.reader);
    const listed = await list(ops, reader);
    expect(listed.err).toBe("");
    const names = (JSON.parse(listed.out) as JournalRecord[]).map((r) => r.object?.name);
    expect(names).toEqual(["web", "api"]);
    // KUBECONFIG as kubectl reads it, and the chain checked over what the server sent.
    const verified = await audit({ KUBECONFIG: reader }, "verify", "--server", ops.url);
    expect(verified.out).toMatch(/^journal OK: 2 records/);
  });

  it("names the user and the role to bind when RBAC refuses it", async () => {
    const ops = await startGuardedOps();
    const result = await list(ops, kubeconfigWith("nobody", ops.tokens.nobody));
    expect(result.code).toBe(1);
    expect(result.err).toContain("GG_JOURNAL_ACCESS_DENIED");
    expect(result.err).toContain(
      `the journal at ${ops.url} refused user ${serviceAccountUser(ops.ns, "nobody")}: bind ClusterRole <release>-journal-reader`,
    );
    expect(result.err).not.toContain(ops.tokens.nobody);
  });

  it("says what is wrong with the credentials when there is no token to accept", async () => {
    const ops = await startGuardedOps();
    const expired = await list(ops, kubeconfigWith("old", "not-a-token"));
    expect(expired.code).toBe(1);
    expect(expired.err).toContain(
      `the journal at ${ops.url} refused the token of kubeconfig user old: the Kubernetes API server did not accept it`,
    );
    // envtest's admin authenticates with a client certificate, which the ops port cannot check.
    const admin = await list(ops, envtest().kubeconfigs.admin);
    expect(admin.code).toBe(1);
    expect(admin.err).toMatch(/kubeconfig user \S+ has none \(it has a client certificate/);
    const nothing = await audit({}, "list", "--server", ops.url);
    expect(nothing.code).toBe(1);
    expect(nothing.err).toContain("there is no kubeconfig to take one from: give --kubeconfig");
  });
});
