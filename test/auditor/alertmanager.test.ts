// Alerts reach a real Alertmanager (built from the Go module proxy, pinned in
// test/tools/alertmanager) through its v2 API, and read back as it stores them.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertFromRecord } from "../../src/auditor/alerts/alert.js";
import { createSink } from "../../src/auditor/alerts/sinks.js";
import { secretValueDigest } from "../../src/auditor/journal/record.js";
import { realClock } from "../../src/runtime/clock.js";
import { freePort, startProcess, waitFor, type ManagedProcess } from "../envtest/processes.js";
import { ensureGoTool } from "../tools/go-tools.js";

const CONFIG = `route:
  receiver: "null"
receivers:
  - name: "null"
`;

interface StoredAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

let dir = "";
let url = "";
let proc: ManagedProcess | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "alertmanager-"));
  writeFileSync(join(dir, "alertmanager.yml"), CONFIG);
  const port = await freePort();
  url = `http://127.0.0.1:${String(port)}`;
  const logFile = join(dir, "alertmanager.log");
  proc = startProcess({
    name: "alertmanager",
    binary: ensureGoTool("alertmanager"),
    logFile,
    args: [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${String(port)}`,
      // A single instance: no gossip port to bind or peers to wait for.
      "--cluster.listen-address=",
    ],
  });
  await waitFor("alertmanager /-/ready", async () => (await fetch(`${url}/-/ready`)).ok, {
    timeoutMs: 30_000,
    process: proc,
    logFile,
  });
}, 600_000);

afterAll(async () => {
  await proc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("Alertmanager v2 sink", () => {
  it("posts a drift alert that Alertmanager accepts and serves back, without values", async () => {
    const alert = alertFromRecord(
      {
        seq: 3,
        time: new Date().toISOString(),
        prevHash: "0".repeat(64),
        hash: "1".repeat(64),
        type: "drift-detected",
        object: { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db" },
        diff: [
          {
            path: "/data/password",
            op: "replace",
            from: secretValueDigest("a"),
            to: secretValueDigest("value-never-sent"),
          },
        ],
      },
      { gitSync: { namespace: "shop", name: "app" }, path: "deploy/prod" },
    );
    if (alert === undefined) throw new Error("no alert");
    await createSink({ type: "alertmanager", id: "am", url, clock: realClock() }).deliver(alert);
    const res = await fetch(`${url}/api/v2/alerts?filter=name%3D%22db%22`);
    const stored = (await res.json()) as StoredAlert[];
    expect(stored).toHaveLength(1);
    expect(stored[0]?.labels).toMatchObject({
      alertname: "GitOpsGuardDrift",
      severity: "critical",
      kind: "Secret",
      namespace: "shop",
      name: "db",
      user: "unattributed",
    });
    expect(stored[0]?.annotations).toMatchObject({
      fields: "/data/password",
      git_path: "deploy/prod",
    });
    expect(JSON.stringify(stored)).not.toContain("value-never-sent");
  });
});
