/**
 * One journal record as its detail view shows it: the record, the heal that followed it (drift
 * and break-glass records) and the GitSync it names, as the auditor's cache holds it now. Also
 * the seq in the URL, read strictly.
 */
import type { JournalRecord } from "../journal/record.js";
import type { StatusSources } from "./collect.js";
import { gitSyncRow, type GitSyncRow } from "./model.js";

export interface RecordView {
  readonly record: JournalRecord;
  /**
   * Drift and break-glass records: the drift-healed record of the same object that followed,
   * or "open" when there is none yet. Absent for every other type.
   */
  readonly heal?: { readonly seq: number; readonly atMs: number } | "open";
  /** The record's GitSync as it is now (URL, path), while it still exists. */
  readonly gitSync?: GitSyncRow;
}

/** Whole decimal numbers only, short enough to be exact: "12", not "1e1", "+12" or "12.0". */
const SEQ = /^\d{1,15}$/;

/** The seq of /status/records/<seq>, or undefined when the text is not one. */
export function parseSeq(text: string): number | undefined {
  return SEQ.test(text) ? Number(text) : undefined;
}

function healOf(sources: StatusSources, record: JournalRecord): RecordView["heal"] {
  if (record.type !== "drift-detected" && record.type !== "break-glass") return undefined;
  const heal = sources.journal.healOf(record);
  return heal === undefined ? "open" : { seq: heal.seq, atMs: Date.parse(heal.time) };
}

function gitSyncOf(sources: StatusSources, record: JournalRecord): GitSyncRow | undefined {
  const named = record.gitSync;
  if (named === undefined) return undefined;
  const found = sources
    .gitSyncs()
    .find((g) => g.metadata.namespace === named.namespace && g.metadata.name === named.name);
  return found === undefined ? undefined : gitSyncRow(found);
}

/** The view of record seq, or undefined when the journal holds no such record. */
export function collectRecord(sources: StatusSources, seq: number): RecordView | undefined {
  const record = sources.journal.record(seq);
  if (record === undefined) return undefined;
  const heal = healOf(sources, record);
  const gitSync = gitSyncOf(sources, record);
  return {
    record,
    ...(heal === undefined ? {} : { heal }),
    ...(gitSync === undefined ? {} : { gitSync }),
  };
}
