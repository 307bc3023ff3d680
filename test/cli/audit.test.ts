import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { journalRouter } from "../../src/auditor/journal/http.js";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { JOURNAL_FILE, JournalStore } from "../../src/auditor/journal/store.js";
import { runCli } from "../../src/cli/run-cli.js";
import { startServer } from "../../src/http/server.js";
import { createLogger } from "../../src/telemetry/log.js";
import { FakeClock } from "../helpers/fake-clock.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateDir(records: number): string {
  const dir = mkdtempSync(join(tmpdir(), "audit-cli-"));
  dirs.push(dir);
  const journal = JournalStore.open(
    join(dir, JOURNAL_FILE),
    new FakeClock(Date.UTC(2026, 10, 22, 9, 0, 0)),
  );
  for (let i = 1; i <= records; i++) {
    journal.append({
      type: i % 2 === 0 ? "break-glass" : "drift-detected",
      object: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        namespace: "shop",
        name: `web-${String(i)}`,
      },
      user: { username: i % 2 === 0 ? "bob" : "alice", groups: [] },
      diff: [{ path: "/spec/replicas", op: "replace", from: 1, to: 2 }],
      ...(i % 2 === 0 ? { reason: "INC-7" } : {}),
    });
  }
  journal.close();
  return dir;
}

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(["node", "gitops-guard", ...args], {
    run: () => Promise.resolve(),
    env: {},
    hostname: "test",
    output: { writeOut: (t) => (out += t), writeErr: (t) => (err += t) },
  });
  return { code, out, err };
}

describe("gitops-guard audit", () => {
  it("lists records as a table and as JSON, with filters", async () => {
    const dir = stateDir(4);
    const table = await cli("audit", "list", "--state-dir", dir, "--user", "bob");
    expect(table.code).toBe(0);
    expect(table.out.trimEnd().split("\n")).toEqual([
      expect.stringMatching(
        /^ {5}2 {2}2026-11-22T09:00:00.000Z {2}break-glass {10}Deployment\/shop\/web-2 {2}bob {2}\/spec\/replicas {2}reason=INC-7$/,
      ),
      expect.stringMatching(/^\s+4 .*web-4 {2}bob/),
    ]);
    const json = await cli("audit", "list", "--state-dir", dir, "-o", "json", "--after", "3");
    expect((JSON.parse(json.out) as JournalRecord[]).map((r) => r.seq)).toEqual([4]);
  });

  it("lists what one user did since a time or an age (--user, --since)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-since-"));
    dirs.push(dir);
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 9, 0, 0));
    const journal = JournalStore.open(join(dir, JOURNAL_FILE), clock);
    for (const [minute, user] of [
      [0, "alice"],
      [10, "bob"],
      [20, "alice"],
    ] as const) {
      if (minute > 0) await clock.advance(10 * 60_000);
      journal.append({
        type: "drift-detected",
        object: {
          apiVersion: "v1",
          kind: "ConfigMap",
          namespace: "shop",
          name: `m${String(minute)}`,
        },
        user: { username: user, groups: [] },
        userSource: "admission",
      });
    }
    journal.close();
    const since = await cli(
      "audit",
      "list",
      "--state-dir",
      dir,
      "-o",
      "json",
      "--user",
      "alice",
      "--since",
      "2026-11-22T09:05:00Z",
    );
    expect((JSON.parse(since.out) as JournalRecord[]).map((r) => r.object?.name)).toEqual(["m20"]);
    const offset = await cli(
      "audit",
      "list",
      "--state-dir",
      dir,
      "-o",
      "json",
      "--since",
      "2026-11-22T10:05:00+01:00",
    );
    expect((JSON.parse(offset.out) as JournalRecord[]).map((r) => r.object?.name)).toEqual([
      "m10",
      "m20",
    ]);
    // Ages count back from now: these records are older than a day, younger than ten years.
    const recent = await cli("audit", "list", "--state-dir", dir, "-o", "json", "--since", "1d");
    expect(JSON.parse(recent.out)).toEqual([]);
    const old = await cli("audit", "list", "--state-dir", dir, "-o", "json", "--since", "3650d");
    expect((JSON.parse(old.out) as JournalRecord[]).length).toBe(3);
    const bad = await cli("audit", "list", "--state-dir", dir, "--since", "yesterday");
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain("--since must be an RFC 3339 time");
  });

  it("verify says OK, then names the record an intruder changed, and exits non-zero", async () => {
    const dir = stateDir(5);
    expect((await cli("audit", "verify", "--state-dir", dir)).out).toMatch(
      /^journal OK: 5 records, head 5:[0-9a-f]{64}\n$/,
    );
    const db = new DatabaseSync(join(dir, JOURNAL_FILE));
    db.exec(
      "DROP TRIGGER records_no_update; UPDATE records SET body = replace(body, 'alice', 'carol') WHERE seq = 3;",
    );
    db.close();
    const broken = await cli("audit", "verify", "--state-dir", dir);
    expect(broken.code).toBe(1);
    expect(broken.err).toContain("GG_JOURNAL_INVALID");
    expect(broken.err).toContain("record 3 (changed)");
  });

  it("export ends with the chain head, which verify --anchor then holds the journal to", async () => {
    const dir = stateDir(3);
    const exported = await cli("audit", "export", "--state-dir", dir);
    const lines = exported.out.trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[3] ?? "")).toMatchObject({ head: { seq: 3 } });
    const anchor = join(dir, "anchor.jsonl");
    writeFileSync(anchor, exported.out);
    expect((await cli("audit", "verify", "--state-dir", dir, "--anchor", anchor)).code).toBe(0);
    const db = new DatabaseSync(join(dir, JOURNAL_FILE));
    db.exec("DROP TRIGGER records_no_delete; DELETE FROM records WHERE seq = 3;");
    db.close();
    const cut = await cli("audit", "verify", "--state-dir", dir, "--anchor", anchor);
    expect(cut.code).toBe(1);
    expect(cut.err).toContain("(truncated)");
  });

  it("reads the same journal from the ops server's /api/v1/journal", async () => {
    const dir = stateDir(3);
    const store = JournalStore.open(join(dir, JOURNAL_FILE), new FakeClock());
    const app = express();
    app.use(journalRouter(store));
    const server = await startServer({
      app,
      listen: "127.0.0.1:0",
      logger: createLogger({ level: "silent" }),
    });
    try {
      const listed = await cli(
        "audit",
        "list",
        "--server",
        server.url,
        "--kind",
        "Deployment",
        "-o",
        "json",
      );
      expect((JSON.parse(listed.out) as JournalRecord[]).map((r) => r.object?.name)).toEqual([
        "web-1",
        "web-2",
        "web-3",
      ]);
      expect((await cli("audit", "verify", "--server", server.url)).out).toMatch(
        /^journal OK: 3 records/,
      );
      const bad = await fetch(`${server.url}/api/v1/journal?limit=lots`);
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ message: "limit must be a whole number" });
    } finally {
      await server.close();
      store.close();
    }
  });

  it("names what is missing when the state directory holds no journal", async () => {
    const empty = mkdtempSync(join(tmpdir(), "audit-empty-"));
    dirs.push(empty);
    const result = await cli("audit", "list", "--state-dir", empty);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/GG_JOURNAL_OPEN_FAILED.*no audit journal at .*journal\.db/);
  });

  it("lists denials with the user, Secrets and keys with their writer, each with its message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-types-"));
    dirs.push(dir);
    const journal = JournalStore.open(
      join(dir, JOURNAL_FILE),
      new FakeClock(Date.UTC(2026, 10, 22, 9, 0, 0)),
    );
    const event = { namespace: "shop", name: "e", uid: "u" };
    journal.append({
      type: "admission-denied",
      object: { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" },
      user: { username: "alice", groups: ["developers"] },
      diff: [{ path: "/metadata/labels/edited", op: "replace" }],
      reason: "OutOfBandChange",
      message: "UPDATE denied by GuardPolicy default",
      event,
    });
    journal.append({
      type: "secret-materialised",
      object: { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db" },
      fieldManagers: ["gitops-guard (Apply)"],
      message: "created from SealedSecret shop/db (gitops-guard.io/v1alpha1)",
      event,
    });
    journal.append({
      type: "key-rotated",
      object: { apiVersion: "v1", kind: "Secret", namespace: "gg", name: "sealing-key-initial" },
      message: "sealing key SHA256:k generated (initial)",
      event,
    });
    journal.close();
    const table = await cli("audit", "list", "--state-dir", dir);
    const at = "2026-11-22T09:00:00.000Z";
    expect(table.out.trimEnd().split("\n")).toEqual([
      `     1  ${at}  admission-denied     Deployment/shop/web  alice  /metadata/labels/edited  reason=OutOfBandChange  UPDATE denied by GuardPolicy default`,
      `     2  ${at}  secret-materialised  Secret/shop/db  gitops-guard (Apply)  -  created from SealedSecret shop/db (gitops-guard.io/v1alpha1)`,
      `     3  ${at}  key-rotated          Secret/gg/sealing-key-initial  -  -  sealing key SHA256:k generated (initial)`,
    ]);
  });
});
