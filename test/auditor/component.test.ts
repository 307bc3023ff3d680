import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { AUDIT_WEBHOOK_PATH } from "../../src/auditor/attribution/audit-webhook.js";
import { createAuditorComponent, type AuditorOptions } from "../../src/auditor/component.js";
import { JOURNAL_FILE } from "../../src/auditor/journal/store.js";
import { loadConfig } from "../../src/config.js";
import { ErrorCodes } from "../../src/errors.js";
import { createKubeClient } from "../../src/kube/client.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { kubeconfigYaml } from "../envtest/kubeconfig.js";
import { freePort } from "../envtest/processes.js";
import { eventually } from "../envtest/context.js";
import { sink, type LogSink } from "../helpers/log-sink.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An auditor whose API server is a closed port: its caches can never sync. */
async function unreachableAuditor(
  options: AuditorOptions = {},
  logs: LogSink = sink(),
): Promise<{ auditor: ReturnType<typeof createAuditorComponent>; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "auditor-unit-"));
  dirs.push(dir);
  const kubeconfig = join(dir, "kubeconfig");
  const server = `https://127.0.0.1:${String(await freePort())}`;
  writeFileSync(
    kubeconfig,
    kubeconfigYaml({ name: "x", server, caCert: makeTestCa().cert, token: "t" }),
  );
  const config = loadConfig({
    flags: { kubeconfig, stateDir: dir },
    env: {},
    hostname: "unit",
  });
  const root = createLogger({ level: "debug", destination: logs.stream });
  const auditor = createAuditorComponent(
    {
      config,
      // As main.ts hands it to the component.
      logger: root.child({ component: "auditor" }),
      metrics: createMetrics(),
      clock: realClock(),
      kube: createKubeClient({ kubeconfig }),
    },
    options,
  );
  return { auditor, dir };
}

/** A path where a folder cannot be made: a regular file stands there. */
function notADirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), "auditor-unit-"));
  dirs.push(dir);
  const file = join(dir, "file");
  writeFileSync(file, "");
  return file;
}

/** POSTs an audit EventList to the auditor's audit webhook over HTTPS. */
function postAuditEvents(url: string, ca: string, token: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${AUDIT_WEBHOOK_PATH}`,
      {
        method: "POST",
        ca,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      },
      (res) => {
        res.resume();
        res.on("end", () => {
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

async function get(router: express.Router, path: string): Promise<number> {
  const app = express();
  app.use(router);
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return (await fetch(`http://127.0.0.1:${String(port)}${path}`)).status;
  } finally {
    server.close();
  }
}

describe("auditor component", () => {
  it("is leader-only, answers 503 for the journal until it runs, and stops while unsynced", async () => {
    const { auditor } = await unreachableAuditor();
    expect(auditor.name).toBe("auditor");
    expect(auditor.leaderOnly).toBe(true);
    expect(await get(auditor.routes(), "/api/v1/journal")).toBe(503);
    const abort = new AbortController();
    const running = auditor.run(abort.signal);
    // The journal opens before the caches sync, so the API serves it while they cannot sync.
    await eventually(
      "the journal to be served",
      async () => (await get(auditor.routes(), "/api/v1/journal")) === 200,
    );
    expect(auditor.readiness()).toEqual({ "informer:auditor": false });
    const started = performance.now();
    abort.abort();
    await running;
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await get(auditor.routes(), "/api/v1/journal")).toBe(503);
  });

  it("writes the component key once in each of its log lines", async () => {
    const ca = makeTestCa();
    const token = "audit-token";
    const logs = sink();
    const { auditor } = await unreachableAuditor(
      { auditWebhook: { listen: "127.0.0.1:0", tls: makeServingCert(ca, ["127.0.0.1"]), token } },
      logs,
    );
    const abort = new AbortController();
    const running = auditor.run(abort.signal);
    try {
      await eventually(
        "the audit webhook to listen",
        () => auditor.auditWebhookUrl() !== undefined,
      );
      const url = auditor.auditWebhookUrl() ?? "";
      // A compiled policy's denial: its kind needs discovery, which fails, and the auditor
      // says so in its own log line.
      const denial = JSON.parse(
        readFileSync(new URL("./fixtures/backstop-denied.audit.json", import.meta.url), "utf8"),
      ) as unknown;
      const body = { apiVersion: "audit.k8s.io/v1", kind: "EventList", items: [denial] };
      expect(await postAuditEvents(url, ca.cert, token, body)).toBe(200);
      const said = (): string | undefined =>
        logs
          .raw()
          .split("\n")
          .find((l) => l.includes("cannot resolve the denied object's kind"));
      await eventually("the auditor's warning", () => said() !== undefined);
      const line = said() ?? "";
      expect(JSON.parse(line)).toMatchObject({ component: "auditor" });
      expect(line.match(/"component":/g)).toHaveLength(1);
    } finally {
      abort.abort();
      await running;
    }
    const lines = logs
      .raw()
      .split("\n")
      .filter((l) => l !== "");
    expect(lines.filter((l) => (l.match(/"component":/g) ?? []).length > 1)).toEqual([]);
  });

  it("closes the journal it opened when a later store cannot be opened", async () => {
    const { auditor, dir } = await unreachableAuditor({
      // A regular file where the baselines' folder should be: the second store fails.
      baselinesPath: join(notADirectory(), "baselines.db"),
    });
    const journal = join(dir, JOURNAL_FILE);
    await expect(auditor.run(new AbortController().signal)).rejects.toMatchObject({
      code: ErrorCodes.JOURNAL_OPEN_FAILED,
    });
    // Left open, it could not be locked by another connection (SQLITE_BUSY).
    const db = new DatabaseSync(journal);
    try {
      expect(() => {
        db.exec("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;");
      }).not.toThrow();
    } finally {
      db.close();
    }
  });
});
