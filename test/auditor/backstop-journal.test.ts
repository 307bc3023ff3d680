/**
 * Backstop denials into the journal: one record per request however often its batch is
 * delivered, one per repeat window however often the user retries, across restarts; queued
 * in order while kinds resolve, and journaled under the plural when discovery cannot say.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  REPEAT_WINDOW_MS,
  backstopEntry,
  type BackstopDenial,
} from "../../src/auditor/attribution/backstop-denials.js";
import { BackstopJournal } from "../../src/auditor/attribution/backstop-journal.js";
import { EventJournal } from "../../src/auditor/event-journal.js";
import type { JournalRecord } from "../../src/auditor/journal/record.js";
import { JournalStore } from "../../src/auditor/journal/store.js";
import { createAuditorMetrics } from "../../src/auditor/metrics.js";
import { DriftRecorder } from "../../src/auditor/recorder.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { FakeClock, flushMicrotasks } from "../helpers/fake-clock.js";
import { sink } from "../helpers/log-sink.js";

// The start of a repeat window, so a test's few minutes stay inside it.
const T0 = Math.ceil(Date.UTC(2026, 2, 1, 10) / REPEAT_WINDOW_MS) * REPEAT_WINDOW_MS;

function denial(auditId: string, extra: Partial<BackstopDenial> = {}): BackstopDenial {
  return {
    auditId,
    receivedMs: T0,
    user: { username: "alice", groups: ["developers", "system:authenticated"] },
    operation: "UPDATE",
    apiVersion: "v1",
    resource: "configmaps",
    namespace: "shop",
    name: "web",
    guardPolicy: "shop",
    backstop: "gitops-guard-shop",
    message: "gitops-guard: ConfigMap shop/web is managed from Git (GuardPolicy shop)",
    ...extra,
  };
}

const silent = (): ReturnType<typeof createLogger> =>
  createLogger({ level: "silent", destination: sink().stream });

describe("EventJournal.onBackstopDenial", () => {
  const stores: JournalStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
  });

  function open(
    clock: FakeClock,
    existing?: JournalStore,
  ): { journal: JournalStore; ej: EventJournal } {
    const journal = existing ?? JournalStore.open(":memory:", clock);
    if (existing === undefined) stores.push(journal);
    const recorder = new DriftRecorder({
      journal,
      metrics: createAuditorMetrics(createMetrics().registry, () => 0),
      logger: silent(),
    });
    const ej = EventJournal.open({
      journal,
      recorder,
      logger: silent(),
      keyNamespace: "gitops-guard-system",
      startMs: clock.now(),
    });
    return { journal, ej };
  }

  const journalOf = (
    ej: EventJournal,
    clock: FakeClock,
    d: BackstopDenial,
  ): JournalRecord | undefined =>
    ej.onBackstopDenial(backstopEntry(d, "ConfigMap"), d.receivedMs, clock.now());

  it("journals a request once and its retries in the window not at all, across a restart", async () => {
    const clock = new FakeClock(T0);
    const first = open(clock);
    expect(journalOf(first.ej, clock, denial("a-1"))?.auditId).toBe("a-1");
    // The same batch again, and alice retrying a minute later.
    expect(journalOf(first.ej, clock, denial("a-1"))).toBeUndefined();
    await clock.advance(60_000);
    expect(journalOf(first.ej, clock, denial("a-2", { receivedMs: T0 + 60_000 }))).toBeUndefined();
    // Something else: another object, another verb, another user.
    expect(journalOf(first.ej, clock, denial("b-1", { name: "api" }))?.object?.name).toBe("api");
    expect(journalOf(first.ej, clock, denial("c-1", { operation: "DELETE" }))).toBeDefined();
    const bob = { username: "bob", groups: [] };
    expect(journalOf(first.ej, clock, denial("d-1", { user: bob }))).toBeDefined();

    // A new leader on the same journal: redelivered batches and retries in the window are not
    // written again.
    await clock.advance(60_000);
    const second = open(clock, first.journal);
    expect(journalOf(second.ej, clock, denial("a-1"))).toBeUndefined();
    expect(journalOf(second.ej, clock, denial("a-3", { receivedMs: clock.now() }))).toBeUndefined();
    expect(first.journal.list().map((r) => r.auditId)).toEqual(["a-1", "b-1", "c-1", "d-1"]);

    // The next window: a retry is a new record.
    await clock.advance(REPEAT_WINDOW_MS);
    expect(journalOf(second.ej, clock, denial("a-4", { receivedMs: clock.now() }))).toBeDefined();
  });

  it("has no baseline: a denial delivered late to a first start is journaled", () => {
    const clock = new FakeClock(T0 + 3_600_000);
    const { ej } = open(clock);
    // Received an hour before this first start, delivered late: still journaled.
    expect(journalOf(ej, clock, denial("late", { receivedMs: T0 }))?.type).toBe("admission-denied");
  });
});

describe("BackstopJournal", () => {
  it("journals in arrival order, under the plural when discovery fails, and keeps going", async () => {
    const written: string[] = [];
    const log = sink();
    // The first lookup answers only when the test says so: later, quicker ones must still wait.
    let answer: (kind: string) => void = () => undefined;
    const slow = new Promise<string>((resolve) => (answer = resolve));
    const kinds: Record<string, () => Promise<string | undefined>> = {
      configmaps: () => slow,
      widgets: () => Promise.resolve(undefined),
      gadgets: () => Promise.reject(new Error("connection refused")),
    };
    const queue = new BackstopJournal({
      kindOf: (_apiVersion, plural) => kinds[plural]!(),
      journal: (entry) => {
        if (entry.auditId === "boom") throw new Error("disk full");
        written.push(`${entry.auditId}:${entry.object?.kind ?? ""}`);
      },
      logger: createLogger({ level: "warn", destination: log.stream }),
    });
    queue.add(denial("1"));
    queue.add(denial("2", { resource: "widgets" }));
    queue.add(denial("boom"));
    queue.add(denial("3", { resource: "gadgets" }));
    await flushMicrotasks();
    expect(written).toEqual([]);
    answer("ConfigMap");
    await queue.idle();
    expect(written).toEqual(["1:ConfigMap", "2:widgets", "3:gadgets"]);
    const messages = log.lines().map((l) => String(l["msg"]));
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining("does not serve this resource"),
        "cannot journal a backstop denial",
        expect.stringContaining("cannot resolve the denied object's kind"),
      ]),
    );
  });

  it("drops denials past its bound instead of queueing without end", async () => {
    const written: string[] = [];
    const queue = new BackstopJournal({
      kindOf: () => Promise.resolve("ConfigMap"),
      journal: (entry) => written.push(entry.auditId),
      logger: silent(),
      maxPending: 2,
    });
    for (const id of ["1", "2", "3"]) queue.add(denial(id));
    await queue.idle();
    queue.add(denial("4"));
    await queue.idle();
    expect(written).toEqual(["1", "2", "4"]);
  });
});
