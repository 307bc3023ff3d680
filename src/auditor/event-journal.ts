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
 *
 * Denials by the compiled ValidatingAdmissionPolicies come from audit events instead
 * (attribution/backstop-denials.ts), and their records name the request's auditID, read back
 * the same way. The API server sends an audit event once (retrying a failed batch for seconds)
 * and never replays history, so there is no baseline to skip: the auditIDs read back cover a
 * batch redelivered across a restart. A repeat (same user, object and message in a window) is
 * one record, as the webhook's Deny Events are; the window's keys are read back too.
 */
import { errorMessage } from "../errors.js";
import type { KubeObject } from "../kube/objects.js";
import type { Logger } from "../telemetry/log.js";
import { repeatKey, type BackstopEntry } from "./attribution/backstop-denials.js";
import { journalEntryOfEvent, type JournalEventOptions } from "./attribution/journal-events.js";
import type { JournalEntry, JournalRecord } from "./journal/record.js";
import type { JournalStore } from "./journal/store.js";
import type { DriftRecorder } from "./recorder.js";

export const SKEW_MS = 5 * 60_000;
const LOOKBACK_MS = 2 * SKEW_MS;
const PAGE = 1000;
// A bound on memory under a flood: past it, the older half is forgotten and the watermark moves.
const MAX_KEYS = 100_000;

export interface EventJournalDeps extends JournalEventOptions {
  readonly journal: JournalStore;
  readonly recorder: DriftRecorder;
  readonly logger: Logger;
  /** Now, on the journal's clock: the baseline of an empty journal. */
  readonly startMs: number;
}

const eventKey = (uid: string): string => `event:${uid}`;
const auditKey = (auditId: string): string => `audit:${auditId}`;
const repeatOf = (entry: JournalEntry, timeMs: number): string =>
  `repeat:${repeatKey(entry, timeMs)}`;

/** The exactly-once keys a record holds, each with a time no earlier than its source's. */
function keysOf(r: JournalRecord): [string, number][] {
  const timeMs = Date.parse(r.time);
  const keys: [string, number][] = [];
  if (r.event !== undefined) keys.push([eventKey(r.event.uid), timeMs + SKEW_MS]);
  if (r.auditId !== undefined) {
    keys.push([auditKey(r.auditId), timeMs], [repeatOf(r, timeMs), timeMs]);
  }
  return keys;
}

/** key -> time, from the records of the last lookback. */
function journaledSince(journal: JournalStore, sinceMs: number): Map<string, number> {
  const keys = new Map<string, number>();
  let before = journal.head().seq;
  while (before > 0) {
    const from = Math.max(0, before - PAGE);
    const page = journal.list({ afterSeq: from, limit: before - from });
    for (const r of page) for (const [key, t] of keysOf(r)) keys.set(key, t);
    const first = page[0];
    if (first === undefined || Date.parse(first.time) < sinceMs) break;
    before = from;
  }
  return keys;
}

export class EventJournal {
  private readonly deps: EventJournalDeps;
  private readonly journaled: Map<string, number>;
  private watermarkMs: number;
  /** Audit events received before this may have had their keys forgotten (a flood). */
  private forgottenBeforeMs = Number.NEGATIVE_INFINITY;

  private constructor(deps: EventJournalDeps, watermarkMs: number, keys: Map<string, number>) {
    this.deps = deps;
    this.watermarkMs = watermarkMs;
    this.journaled = keys;
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

  /** A record written elsewhere (a drift joined to an admission fact): its keys count too. */
  note(record: JournalRecord): void {
    for (const [key, t] of keysOf(record)) this.remember(key, t);
  }

  /** Whether a record already names the Event with this uid. */
  hasEvent(uid: string): boolean {
    return this.journaled.has(eventKey(uid));
  }

  /** Events created before this (the journal's clock) are the baseline, or journaled already. */
  watermark(): number {
    return this.watermarkMs;
  }

  /** Journals the Event when it is one of the contract's and not journaled yet. */
  onEvent(event: KubeObject): JournalRecord | undefined {
    const candidate = journalEntryOfEvent(event, this.deps);
    if (candidate === undefined || candidate.createdMs < this.watermarkMs) return undefined;
    const key = eventKey(candidate.entry.event.uid);
    if (this.journaled.has(key)) return undefined;
    // Remembered first: a listener failing after the append must not make a second record.
    this.remember(key, candidate.createdMs);
    return this.append(candidate.entry, { event: candidate.entry.event });
  }

  /**
   * Journals a backstop denial unless its request, or a repeat of it in this window, is
   * journaled already. receivedMs: the API server's time of the request; nowMs: the journal's.
   */
  onBackstopDenial(
    entry: BackstopEntry,
    receivedMs: number,
    nowMs: number,
  ): JournalRecord | undefined {
    if (receivedMs < this.forgottenBeforeMs) return undefined;
    const audit = auditKey(entry.auditId);
    const repeat = repeatOf(entry, nowMs);
    const seen = this.journaled.has(audit) || this.journaled.has(repeat);
    // A repeat's own auditID is remembered too: its redelivery is no new record either.
    this.remember(audit, receivedMs);
    if (seen) return undefined;
    this.remember(repeat, nowMs);
    return this.append(entry, { auditId: entry.auditId });
  }

  private append(entry: JournalEntry, source: object): JournalRecord | undefined {
    try {
      return this.deps.recorder.append(entry, undefined);
    } catch (err: unknown) {
      // Each source hands a fact over once per run; the next start reads the journal again.
      this.deps.logger.error({ err: errorMessage(err), ...source }, "cannot journal a record");
      return undefined;
    }
  }

  private remember(key: string, timeMs: number): void {
    this.journaled.set(key, timeMs);
    if (this.journaled.size <= MAX_KEYS) return;
    const times = [...this.journaled.values()].sort((a, b) => a - b);
    const cutoff = times[Math.floor(times.length / 2)] ?? timeMs;
    for (const [id, t] of this.journaled) if (t <= cutoff) this.journaled.delete(id);
    // Forgotten keys' sources were created by the cutoff: the watermarks now skip them.
    this.watermarkMs = Math.max(this.watermarkMs, cutoff + 1);
    this.forgottenBeforeMs = Math.max(this.forgottenBeforeMs, cutoff + 1);
  }
}
