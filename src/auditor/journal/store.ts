import type { DatabaseSync, StatementSync } from "node:sqlite";
import { ErrorCodes, GuardError } from "../../errors.js";
import type { Clock } from "../../runtime/clock.js";
import {
  chainHash,
  GENESIS_HASH,
  JOURNAL_TYPES,
  recordBody,
  secretDiffIsSafe,
  type ChainHead,
  type JournalEntry,
  type JournalRecord,
} from "./record.js";
import { openSqlite } from "./sqlite.js";
import type { ChainLink } from "./verify.js";

// Append-only at the database level too: a trigger refuses UPDATE and DELETE, so a bug or a
// careless script cannot rewrite history by accident. Someone with the file can still drop the
// triggers; the hash chain, and an exported head kept elsewhere, are what catch that.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  seq INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  type TEXT NOT NULL,
  namespace TEXT,
  kind TEXT,
  name TEXT,
  username TEXT,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_object ON records (namespace, kind, name);
CREATE INDEX IF NOT EXISTS records_type ON records (type, seq);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
  BEGIN SELECT RAISE(ABORT, 'the audit journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
  BEGIN SELECT RAISE(ABORT, 'the audit journal is append-only'); END;
`;

export interface JournalQuery {
  /** Records with seq greater than this (paging). */
  readonly afterSeq?: number;
  readonly limit?: number;
  readonly type?: string;
  readonly namespace?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly username?: string;
  /** Records written at or after this time (RFC 3339, UTC as the journal writes it). */
  readonly since?: string;
}

interface Row {
  seq: number;
  time: string;
  body: string;
  prev_hash: string;
  hash: string;
}

function toRecord(row: Row): JournalRecord {
  const body = JSON.parse(row.body) as Omit<JournalRecord, "prevHash" | "hash">;
  return { ...body, prevHash: row.prev_hash, hash: row.hash };
}

function checkEntry(entry: JournalEntry): void {
  if (!JOURNAL_TYPES.includes(entry.type)) {
    throw new GuardError(
      ErrorCodes.JOURNAL_INVALID,
      `unknown journal record type ${JSON.stringify(entry.type)}`,
    );
  }
  if (!secretDiffIsSafe(entry)) {
    throw new GuardError(
      ErrorCodes.JOURNAL_SECRET_VALUE,
      "a Secret's diff must hold digests (secretValueDigest), never values",
    );
  }
}

/** The columns the filters use: namespace, kind, name, username. */
function indexColumns(entry: JournalEntry): (string | null)[] {
  const o = entry.object;
  return [o?.namespace ?? null, o?.kind ?? null, o?.name ?? null, entry.user?.username ?? null];
}

/** The SQLite journal: one writer, each record chained to the previous by SHA-256. */
/** The journal's file name inside the state directory. */
export const JOURNAL_FILE = "journal.db";

export class JournalStore {
  private readonly db: DatabaseSync;
  private readonly clock: Clock;
  private readonly insert: StatementSync;
  private readonly lastRow: StatementSync;

  private constructor(db: DatabaseSync, clock: Clock) {
    this.db = db;
    this.clock = clock;
    this.insert = db.prepare(
      "INSERT INTO records (seq, time, type, namespace, kind, name, username, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.lastRow = db.prepare("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1");
  }

  /** Opens (creating if needed) the journal at path; ":memory:" for a throwaway one. */
  static open(path: string, clock: Clock): JournalStore {
    return new JournalStore(openSqlite(path, SCHEMA, "the audit journal"), clock);
  }

  head(): ChainHead {
    const row = this.lastRow.get() as { seq: number; hash: string } | undefined;
    return row === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: row.seq, hash: row.hash };
  }

  /** Appends one record atomically: it is in the chain whole, or not at all. */
  append(entry: JournalEntry): JournalRecord {
    checkEntry(entry);
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const prev = this.head();
      const time = new Date(this.clock.now()).toISOString();
      const unhashed = { ...entry, seq: prev.seq + 1, time };
      const body = recordBody(unhashed);
      const hash = chainHash(prev.hash, body);
      this.insert.run(
        unhashed.seq,
        time,
        entry.type,
        ...indexColumns(entry),
        body,
        prev.hash,
        hash,
      );
      this.db.exec("COMMIT");
      return { ...unhashed, prevHash: prev.hash, hash };
    } catch (err: unknown) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  /** Records in sequence order, filtered and paged. */
  list(query: JournalQuery = {}): JournalRecord[] {
    const where: string[] = ["seq > ?"];
    const params: (string | number)[] = [query.afterSeq ?? 0];
    const filters: [keyof JournalQuery, string][] = [
      ["type", "type"],
      ["namespace", "namespace"],
      ["kind", "kind"],
      ["name", "name"],
      ["username", "username"],
    ];
    for (const [key, column] of filters) {
      const value = query[key];
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    if (query.since !== undefined) {
      where.push("time >= ?");
      params.push(query.since);
    }
    params.push(Math.min(Math.max(query.limit ?? 100, 1), 10_000));
    const sql = `SELECT seq, time, body, prev_hash, hash FROM records WHERE ${where.join(" AND ")} ORDER BY seq LIMIT ?`;
    return (this.db.prepare(sql).all(...params) as unknown as Row[]).map(toRecord);
  }

  /** Every record in sequence order, read lazily (verify and export of large journals). */
  *all(): Generator<JournalRecord> {
    const rows = this.db
      .prepare("SELECT seq, time, body, prev_hash, hash FROM records ORDER BY seq")
      .iterate() as Iterable<Row>;
    for (const row of rows) yield toRecord(row);
  }

  /** The chain as stored, for verify: the hashed body text as written, not re-serialised. */
  *links(): Generator<ChainLink> {
    const rows = this.db
      .prepare("SELECT body, prev_hash, hash FROM records ORDER BY seq")
      .iterate() as Iterable<Omit<Row, "seq" | "time">>;
    for (const row of rows) {
      const { seq } = JSON.parse(row.body) as { seq: number };
      yield { seq, body: row.body, prevHash: row.prev_hash, hash: row.hash };
    }
  }

  count(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM records").get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }
}
