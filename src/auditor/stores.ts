import { join } from "node:path";
import type { Clock } from "../runtime/clock.js";
import type { Closers } from "../runtime/closers.js";
import { BASELINES_FILE, BaselineStore } from "./journal/baseline-store.js";
import { JOURNAL_FILE, JournalStore } from "./journal/store.js";

export interface StoreOptions {
  /** The journal file; default journal.db in the state directory. */
  readonly journalPath?: string;
  /** What the auditor knows of each object, across restarts; default in the state directory. */
  readonly baselinesPath?: string;
}

export interface Stores {
  readonly journal: JournalStore;
  readonly baselines: BaselineStore;
}

/**
 * The auditor's two SQLite files, each closed by closers once the run ends: a second that
 * cannot be opened (its folder not writable) leaves the first closed, not locked.
 */
export function openStores(
  stateDir: string,
  options: StoreOptions,
  clock: Clock,
  closers: Closers,
): Stores {
  const journal = JournalStore.open(options.journalPath ?? join(stateDir, JOURNAL_FILE), clock);
  closers.add(() => {
    journal.close();
  });
  const baselines = BaselineStore.open(options.baselinesPath ?? join(stateDir, BASELINES_FILE));
  closers.add(() => {
    baselines.close();
  });
  return { journal, baselines };
}
