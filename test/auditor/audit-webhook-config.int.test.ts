/**
 * The audit webhook as an operator turns it on: `gitops-guard run` with --audit-webhook-*
 * files (TLS certificate, key, bearer token). Without the token a batch is refused with 401
 * and counted; with it, the batch is taken.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AUDIT_WEBHOOK_PATH } from "../../src/auditor/attribution/audit-webhook.js";
import { loadConfig } from "../../src/config.js";
import { ErrorCodes } from "../../src/errors.js";
import { run } from "../../src/main.js";
import { envtest, eventually, testNamespace } from "../envtest/context.js";
import { freePort } from "../envtest/processes.js";
import { sink } from "../helpers/log-sink.js";
import { bearer, opsReaderToken } from "../helpers/ops-access.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";

const dir = mkdtempSync(join(tmpdir(), "gg-audit-hook-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function post(url: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (token !== undefined) headers["Authorization"] = `Bearer ${token}`;
    const req = request(url, { method: "POST", ca, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    req.end(JSON.stringify({ apiVersion: "audit.k8s.io/v1", kind: "EventList", items: [] }));
  });
}

describe("gitops-guard run --audit-webhook-*", () => {
  it("serves the audit webhook over TLS and takes batches only with the bearer token", async () => {
    const ns = await testNamespace("audit-hook");
    const ca = makeTestCa();
    const serving = makeServingCert(ca, ["127.0.0.1"]);
    const token = "audit-hook-token-7f3a";
    const files = {
      cert: join(dir, "tls.crt"),
      key: join(dir, "tls.key"),
      token: join(dir, "token"),
    };
    writeFileSync(files.cert, serving.cert);
    writeFileSync(files.key, serving.key);
    writeFileSync(files.token, `${token}\n`);
    const port = await freePort();
    const config = loadConfig({
      flags: {
        kubeconfig: envtest().kubeconfigs.admin,
        components: "auditor",
        namespace: ns,
        opsListen: "127.0.0.1:0",
        stateDir: dir,
        identity: "audit-hook",
        leaderElection: false,
        auditWebhookListen: `127.0.0.1:${String(port)}`,
        auditWebhookCertFile: files.cert,
        auditWebhookKeyFile: files.key,
        auditWebhookTokenFile: files.token,
      },
      env: {},
      hostname: "test-host",
    });
    const log = sink();
    const stop = new AbortController();
    let ops = "";
    const running = run(config, {
      signal: stop.signal,
      logDestination: log.stream,
      onListening: (url) => (ops = url),
    });
    try {
      const url = `https://127.0.0.1:${String(port)}${AUDIT_WEBHOOK_PATH}`;
      const refused = await eventually("the audit webhook", async () => {
        try {
          return (await post(url, ca.cert)).status === 401;
        } catch {
          return false;
        }
      }).then(() => post(url, ca.cert, "wrong"));
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body)).toMatchObject({
        code: ErrorCodes.AUDIT_EVENTS_UNAUTHORIZED,
      });
      expect((await post(url, ca.cert, token)).status).toBe(200);
      const headers = bearer(await opsReaderToken(ns));
      const metrics = await (await fetch(`${ops}/metrics`, { headers })).text();
      expect(metrics).toMatch(
        /gitops_guard_audit_webhook_events_total\{outcome="unauthorized"\} [1-9]/,
      );
      expect(log.raw()).not.toContain(token);
    } finally {
      stop.abort();
      await running;
    }
  });

  it("refuses to start when the token file cannot be read, naming the file", () => {
    const config = loadConfig({
      flags: {
        kubeconfig: envtest().kubeconfigs.admin,
        components: "auditor",
        identity: "audit-hook",
        auditWebhookListen: "127.0.0.1:0",
        auditWebhookCertFile: join(dir, "tls.crt"),
        auditWebhookKeyFile: join(dir, "tls.key"),
        auditWebhookTokenFile: join(dir, "missing-token"),
      },
      env: {},
      hostname: "test-host",
    });
    return expect(run(config, { signal: AbortSignal.abort() })).rejects.toThrow(
      /cannot read auditWebhook\.tokenFile .*missing-token/,
    );
  });
});
