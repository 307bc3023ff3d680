/**
 * One journal record per Event of the contract (attribution/journal-events.ts), however often
 * the auditor restarts, changes leader or relists its informer. Each record names its Event's
 * uid, and two rules keep it at one:
 *
 *  - a uid already journaled is skipped: the uids of the records written in the last
 *    LOOKBACK are read back from the journal at start, and each record written adds its uid;
 *  - an Event created before the watermark is skipped. With an empty journal the watermark is
 *    the start (the Events already there are the baseline, as the policies already there are);
 *    otherwise it is the newest record's time minus SKEW, so Events written while no auditor
 *    ran are caught up, and any record that could name one of them is within the uids read.
 *
 * Times compare the API server's creationTimestamp with the journal's clock: SKEW absorbs the
 * difference and the delay between an Event and its record. Events live an hour by default
 * (kube-apiserver --event-ttl), far inside LOOKBACK.
 */
import { errorMessage } from "../errors.js";
import type { KubeObject } from "../kube/objects.js";
import type { Logger } from "../telemetry/log.js";
import { journalEntryOfEvent, type JournalEventOptions } from "./attribution/journal-events.js";
import type { JournalRecord } from "./journal/record.js";
import type { JournalStore } from "./journal/store.js";
import type { DriftRecorder } from "./recorder.js";

export const SKEW_MS = 5 * 60_000;
const LOOKBACK_MS = 2 * SKEW_MS;
const PAGE = 1000;
// A bound on memory under a flood: past it, the older half is forgotten and the watermark moves.
const MAX_UIDS = 100_000;

export interface EventJournalDeps extends JournalEventOptions {
  readonly journal: JournalStore;
  readonly recorder: DriftRecorder;
  readonly logger: Logger;
  /** Now, on the journal's clock: the baseline of an empty journal. */
  readonly startMs: number;
}

/** uid -> a time no earlier than its Event's creation, from the records of the last lookback. */
function journaledSince(journal: JournalStore, sinceMs: number): Map<string, number> {
  const uids = new Map<string, number>();
  let before = journal.head().seq;
  while (before > 0) {
    const from = Math.max(0, before - PAGE);
    const page = journal.list({ afterSeq: from, limit: before - from });
    for (const r of page) {
      if (r.event !== undefined) uids.set(r.event.uid, Date.parse(r.time) + SKEW_MS);
    }
    const first = page[0];
    if (first === undefined || Date.parse(first.time) < sinceMs) break;
    before = from;
  }
  return uids;
}

export class EventJournal {
  private readonly deps: EventJournalDeps;
  private readonly journaled: Map<string, number>;
  private watermarkMs: number;

  private constructor(deps: EventJournalDeps, watermarkMs: number, uids: Map<string, number>) {
    this.deps = deps;
    this.watermarkMs = watermarkMs;
    this.journaled = uids;
  }

  /** Reads back what the journal holds already (synchronous: SQLite, a few pages). */
  static open(deps: EventJournalDeps): EventJournal {
    const newest = deps.journal.list({ afterSeq: deps.journal.head().seq - 1, limit: 1 })[0];
    if (newest === undefined) return new EventJournal(deps, deps.startMs - 1000, new Map());
    const newestMs = Date.parse(newest.time);
    return new EventJournal(
      deps,
      newestMs - SKEW_MS,
      journaledSince(deps.journal, newestMs - LOOKBACK_MS),
    );
  }

  /** Journals the Event when it is one of the contract's and not journaled yet. */
  onEvent(event: KubeObject): JournalRecord | undefined {
    const candidate = journalEntryOfEvent(event, this.deps);
    if (candidate === undefined || candidate.createdMs < this.watermarkMs) return undefined;
    const { uid } = candidate.entry.event;
    if (this.journaled.has(uid)) return undefined;
    // Remembered first: a listener failing after the append must not make a second record.
    this.remember(uid, candidate.createdMs);
    try {
      return this.deps.recorder.append(candidate.entry, undefined);
    } catch (err: unknown) {
      // The informer hands an Event over once per run; the next start reads the journal again.
      this.deps.logger.error(
        { err: errorMessage(err), event: candidate.entry.event },
        "cannot journal an Event",
      );
      return undefined;
    }
  }

  private remember(uid: string, createdMs: number): void {
    this.journaled.set(uid, createdMs);
    if (this.journaled.size <= MAX_UIDS) return;
    const times = [...this.journaled.values()].sort((a, b) => a - b);
    const cutoff = times[Math.floor(times.length / 2)] ?? createdMs;
    for (const [id, t] of this.journaled) if (t <= cutoff) this.journaled.delete(id);
    // Forgotten uids' Events were created by the cutoff: the watermark now skips them.
    this.watermarkMs = Math.max(this.watermarkMs, cutoff + 1);
  }
}
