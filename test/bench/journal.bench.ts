// Audit journal: chained appends per second against plain SQLite inserts of the same rows (the
// cost of the chain and canonical JSON), and verify time for 100,000 records against hashing the
// same bytes with no chain logic. Goal: >= 2,000 appends/s.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { JournalEntry } from "../../src/auditor/journal/record.js";
import { JournalStore } from "../../src/auditor/journal/store.js";
import { verifyChain } from "../../src/auditor/journal/verify.js";
import { realClock } from "../../src/runtime/clock.js";
import { fmt, median, ratioLine } from "./stats.js";

const BATCH = 4000;
const BATCHES = 5;
const VERIFY_RECORDS = 100_000;

const entry = (i: number): JournalEntry => ({
  type: "drift-detected",
  object: {
    apiVersion: "apps/v1",
    kind: "Deployment",
    namespace: "shop",
    name: `web-${String(i % 50)}`,
  },
  user: { username: "alice", groups: ["developers", "system:authenticated"] },
  fieldManagers: ["kubectl-edit"],
  diff: [{ path: "/spec/replicas", op: "replace", from: 3, to: i % 9 }],
  gitSync: { namespace: "shop", name: "apps" },
  revision: "4f1c2a9e0b7d",
});

function chainedRate(dir: string): number[] {
  const journal = JournalStore.open(join(dir, "chained.db"), realClock());
  const rates: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = performance.now();
    for (let i = 0; i < BATCH; i++) journal.append(entry(i));
    rates.push(BATCH / ((performance.now() - start) / 1000));
  }
  journal.close();
  return rates;
}

/** The same rows, one transaction each, with the same pragmas: no canonical JSON, no hashing. */
function plainRate(dir: string): number[] {
  const db = new DatabaseSync(join(dir, "plain.db"));
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  db.exec(
    "CREATE TABLE records (seq INTEGER PRIMARY KEY, time TEXT, type TEXT, namespace TEXT, kind TEXT, name TEXT, username TEXT, body TEXT, prev_hash TEXT, hash TEXT)",
  );
  const insert = db.prepare(
    "INSERT INTO records (time, type, namespace, kind, name, username, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const rates: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = performance.now();
    for (let i = 0; i < BATCH; i++) {
      const e = entry(i);
      db.exec("BEGIN IMMEDIATE");
      insert.run(
        new Date().toISOString(),
        e.type,
        e.object?.namespace ?? null,
        e.object?.kind ?? null,
        e.object?.name ?? null,
        "alice",
        JSON.stringify(e),
        "",
        "",
      );
      db.exec("COMMIT");
    }
    rates.push(BATCH / ((performance.now() - start) / 1000));
  }
  db.close();
  return rates;
}

function verifyTimes(dir: string): { verifyMs: number; hashOnlyMs: number } {
  const path = join(dir, "verify.db");
  const journal = JournalStore.open(path, realClock());
  for (let i = journal.count(); i < VERIFY_RECORDS; i++) journal.append(entry(i));
  const verifyRuns: number[] = [];
  const hashRuns: number[] = [];
  for (let run = 0; run < 3; run++) {
    let start = performance.now();
    const result = verifyChain(journal.links());
    verifyRuns.push(performance.now() - start);
    if (!result.ok || result.count !== VERIFY_RECORDS)
      throw new Error("verify failed on an untouched journal");
    start = performance.now();
    const db = new DatabaseSync(path);
    for (const row of db.prepare("SELECT body FROM records ORDER BY seq").iterate() as Iterable<{
      body: string;
    }>) {
      createHash("sha256").update(row.body).digest("hex");
    }
    db.close();
    hashRuns.push(performance.now() - start);
  }
  journal.close();
  return { verifyMs: median(verifyRuns), hashOnlyMs: median(hashRuns) };
}

const dir = mkdtempSync(join(tmpdir(), "journal-bench-"));
try {
  const chained = median(chainedRate(dir));
  const plain = median(plainRate(dir));
  process.stdout.write(
    `${ratioLine("journal appends (chained, SHA-256, JCS)", chained, plain, "rec/s")}\n`,
  );
  process.stdout.write(
    `  goal >= 2,000 appends/s: ${chained >= 2000 ? "met" : "NOT met"} (median of ${String(BATCHES)} batches of ${String(BATCH)})\n`,
  );
  const { verifyMs, hashOnlyMs } = verifyTimes(dir);
  process.stdout.write(
    `${ratioLine(`verify ${fmt(VERIFY_RECORDS, 0)} records`, verifyMs, hashOnlyMs, "ms")}\n`,
  );
  process.stdout.write(
    "  baseline: read every body and SHA-256 it, no chain checks (median of 3)\n",
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
