import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ErrorCodes, GuardError, errorMessage } from "../../errors.js";

/**
 * Opens (creating if needed) one of the auditor's SQLite files at path (":memory:" for a
 * throwaway one) with schema applied; what names it in the error ("the audit journal").
 */
export function openSqlite(path: string, schema: string, what: string): DatabaseSync {
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    // WAL with NORMAL sync: a commit survives the writer's crash (SIGKILL) without an fsync
    // per commit; a power loss may drop the last commits, never half of one.
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    db.exec(schema);
    return db;
  } catch (err: unknown) {
    throw new GuardError(
      ErrorCodes.JOURNAL_OPEN_FAILED,
      `cannot open ${what} at ${path}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}
