import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import {
  secretValueDigest,
  type JournalEntry,
  type JournalRecord,
} from "../../src/auditor/journal/record.js";
import { JournalStore } from "../../src/auditor/journal/store.js";
import { linksOf, verifyChain } from "../../src/auditor/journal/verify.js";
import { ErrorCodes } from "../../src/errors.js";
import { FakeClock } from "../helpers/fake-clock.js";

const dirs: string[] = [];
function journalPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "journal-test-"));
  dirs.push(dir);
  return join(dir, "journal.db");
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const drift = (name: string, by = "alice"): JournalEntry => ({
  type: "drift-detected",
  object: { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name },
  user: { username: by, groups: ["developers"] },
  fieldManagers: ["kubectl-edit"],
  diff: [{ path: "/spec/replicas", op: "replace", from: 3, to: 5 }],
  gitSync: { namespace: "shop", name: "apps" },
  revision: "abc123",
});

function filled(path: string, n: number): JournalStore {
  const journal = JournalStore.open(path, new FakeClock());
  for (let i = 1; i <= n; i++) journal.append(drift(`web-${String(i)}`));
  return journal;
}

/** Edits the database file behind the journal's back, as an intruder with the file would. */
function tamper(path: string, sql: string): void {
  const db = new DatabaseSync(path);
  db.exec("DROP TRIGGER records_no_update; DROP TRIGGER records_no_delete;");
  db.exec(sql);
  db.close();
}

describe("audit journal", () => {
  it("chains each record to the one before and reads them back with filters and paging", () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 22, 12, 0, 0));
    const journal = JournalStore.open(journalPath(), clock);
    const first = journal.append(drift("web"));
    const second = journal.append({
      ...drift("api", "bob"),
      type: "break-glass",
      reason: "INC-42",
    });
    expect(first).toMatchObject({
      seq: 1,
      time: "2026-11-22T12:00:00.000Z",
      prevHash: "0".repeat(64),
    });
    expect(second.prevHash).toBe(first.hash);
    expect(journal.head()).toEqual({ seq: 2, hash: second.hash });
    expect(journal.list({ username: "bob" }).map((r) => [r.seq, r.reason])).toEqual([
      [2, "INC-42"],
    ]);
    expect(journal.list({ afterSeq: 1 }).map((r) => r.seq)).toEqual([2]);
    expect(journal.list({ limit: 1 }).map((r) => r.seq)).toEqual([1]);
    expect(journal.list({ type: "drift-detected", name: "web" })[0]).toEqual(first);
    expect(verifyChain(journal.links())).toEqual({
      ok: true,
      count: 2,
      head: { seq: 2, hash: second.hash },
    });
  });

  it("keeps its records across reopen and refuses UPDATE and DELETE at the database level", () => {
    const path = journalPath();
    filled(path, 3).close();
    const reopened = JournalStore.open(path, new FakeClock());
    expect(reopened.count()).toBe(3);
    expect(reopened.append(drift("more")).seq).toBe(4);
    reopened.close();
    const db = new DatabaseSync(path);
    expect(() => {
      db.exec("UPDATE records SET type = 'x' WHERE seq = 1");
    }).toThrow(/append-only/);
    expect(() => {
      db.exec("DELETE FROM records WHERE seq = 1");
    }).toThrow(/append-only/);
    db.close();
  });

  it("verify names a changed record", () => {
    const path = journalPath();
    filled(path, 5).close();
    tamper(
      path,
      "UPDATE records SET body = replace(body, '\"alice\"', '\"mallory\"') WHERE seq = 3",
    );
    const result = verifyChain(JournalStore.open(path, new FakeClock()).links());
    expect(result).toMatchObject({ ok: false, seq: 3, problem: "changed" });
  });

  it("verify names a removed record", () => {
    const path = journalPath();
    filled(path, 5).close();
    tamper(path, "DELETE FROM records WHERE seq = 2");
    expect(verifyChain(JournalStore.open(path, new FakeClock()).links())).toMatchObject({
      ok: false,
      seq: 2,
      problem: "removed",
    });
  });

  it("verify names swapped records, even when their sequence numbers are swapped too", () => {
    const path = journalPath();
    filled(path, 5).close();
    tamper(
      path,
      "UPDATE records SET seq = -2 WHERE seq = 2; UPDATE records SET seq = 2 WHERE seq = 4; UPDATE records SET seq = 4 WHERE seq = -2;",
    );
    expect(verifyChain(JournalStore.open(path, new FakeClock()).links())).toMatchObject({
      ok: false,
      seq: 2,
      problem: "reordered",
    });
    const rehashed = journalPath();
    filled(rehashed, 5).close();
    // A careful intruder who rewrites seq inside the bodies too breaks the hashes instead.
    tamper(
      rehashed,
      "UPDATE records SET body = replace(body, '\"seq\":2', '\"seq\":9') WHERE seq = 2",
    );
    expect(verifyChain(JournalStore.open(rehashed, new FakeClock()).links())).toMatchObject({
      ok: false,
      seq: 2,
    });
  });

  it("an exported head catches records cut from the end", () => {
    const path = journalPath();
    const journal = filled(path, 5);
    const anchor = journal.head();
    journal.close();
    tamper(path, "DELETE FROM records WHERE seq >= 4");
    expect(verifyChain(JournalStore.open(path, new FakeClock()).links())).toMatchObject({
      ok: true,
      count: 3,
    });
    expect(verifyChain(JournalStore.open(path, new FakeClock()).links(), anchor)).toMatchObject({
      ok: false,
      problem: "truncated",
    });
  });

  it("verifies records read back as JSON (an export) by canonicalising them again", () => {
    const journal = filled(journalPath(), 4);
    const exported = journal.list().map((r) => JSON.parse(JSON.stringify(r)) as JournalRecord);
    expect(verifyChain(linksOf(exported), journal.head())).toMatchObject({ ok: true, count: 4 });
    const forged = exported.map((r) =>
      r.seq === 2 ? { ...r, user: { username: "nobody", groups: [] } } : r,
    );
    expect(verifyChain(linksOf(forged))).toMatchObject({ ok: false, seq: 2, problem: "changed" });
  });

  it("refuses a Secret's diff that holds a value instead of a digest", () => {
    const journal = JournalStore.open(":memory:", new FakeClock());
    const secret = { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db" };
    expect(() =>
      journal.append({
        type: "drift-detected",
        object: secret,
        diff: [{ path: "/data/password", op: "replace", from: "aHVudGVyMg==", to: "cGFzcw==" }],
      }),
    ).toThrow(expect.objectContaining({ code: ErrorCodes.JOURNAL_SECRET_VALUE }) as Error);
    const ok = journal.append({
      type: "drift-detected",
      object: secret,
      diff: [
        {
          path: "/data/password",
          op: "replace",
          from: secretValueDigest("a"),
          to: secretValueDigest("b"),
        },
      ],
    });
    expect(ok.seq).toBe(1);
    expect(journal.count()).toBe(1);
  });

  it("survives a SIGKILL of the writer in the middle of a burst with the chain intact", async () => {
    const path = journalPath();
    const script = fileURLToPath(new URL("./fixtures/journal-writer.ts", import.meta.url));
    const writer = spawn(process.execPath, ["--import", "tsx", script, path], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let reported = 0;
    await new Promise<void>((resolve, reject) => {
      writer.stdout.on("data", (d: Buffer) => {
        reported = Math.max(reported, ...d.toString().trim().split("\n").map(Number));
        if (reported >= 500) resolve();
      });
      writer.once("exit", (code) => {
        reject(new Error(`writer exited early with ${String(code)}`));
      });
    });
    writer.kill("SIGKILL");
    await new Promise((resolve) => writer.once("exit", resolve));
    const journal = JournalStore.open(path, new FakeClock());
    const result = verifyChain(journal.links());
    expect(result.ok).toBe(true);
    // Everything it reported as committed is there, and nothing half-written.
    expect(journal.count()).toBeGreaterThanOrEqual(reported);
    expect(journal.append(drift("after-crash")).seq).toBe(journal.count());
  });
});
