// An admission fact whose change the auditor never saw is journaled from the fact, unless a
// drift record already accounts for it. Found by the crash test (attribution-crash.int): an edit
// undone unseen 1.9 s after a joined record of another edit of the same object was taken as seen.
import { afterEach, describe, expect, it } from "vitest";
import type { AdmissionFact } from "../../src/auditor/attribution/facts.js";
import { EventJournal } from "../../src/auditor/event-journal.js";
import { JournalStore } from "../../src/auditor/journal/store.js";
import { createAuditorMetrics } from "../../src/auditor/metrics.js";
import { DriftRecorder } from "../../src/auditor/recorder.js";
import { UnseenFacts } from "../../src/auditor/unseen-facts.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { sink } from "../helpers/log-sink.js";

const T0 = Date.UTC(2026, 11, 6, 9, 0, 0);
const SETTLE_MS = 5000;
const RECONCILER = "system:serviceaccount:gitops-guard-system:gitops-guard-reconciler";
const CM: KubeObject = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cm", namespace: "ns", resourceVersion: "9" },
  data: { v: "git" },
};

function fact(uid: string, timeMs: number, username = "admin"): AdmissionFact {
  return {
    user: { username, groups: [] },
    group: "",
    kind: "ConfigMap",
    namespace: "ns",
    name: "cm",
    decision: "Exempt",
    operation: "UPDATE",
    changedFields: ["/data/v"],
    timeMs,
    apiVersion: "v1",
    oldResourceVersion: "5",
    event: { namespace: "ns", name: `cm.${uid}`, uid },
  };
}

const stores: JournalStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function setUp(clock: FakeClock): {
  unseen: UnseenFacts;
  journal: JournalStore;
  recorder: DriftRecorder;
} {
  const journal = JournalStore.open(":memory:", clock);
  stores.push(journal);
  const logger = createLogger({ level: "silent", destination: sink().stream });
  const recorder = new DriftRecorder({
    journal,
    metrics: createAuditorMetrics(createMetrics().registry, () => 0),
    logger,
  });
  const eventJournal = EventJournal.open({
    journal,
    recorder,
    logger,
    keyNamespace: "gg",
    startMs: T0 - 60_000,
  });
  const unseen = new UnseenFacts({
    clock,
    read: () => Promise.resolve(CM),
    journal,
    eventJournal,
    recorder,
    originOf: () => undefined,
    baselineOf: () => CM,
    settleMs: SETTLE_MS,
    reconcilers: () => ({
      usernames: new Set([RECONCILER]),
      groups: new Set<string>(),
      fieldManager: "gitops-guard",
    }),
  });
  return { unseen, journal, recorder };
}

/** A drift record of cm seen live, joined to the fact with eventUid (or to none). */
function seenRecord(recorder: DriftRecorder, eventUid?: string): void {
  recorder.drift({
    object: CM,
    changes: [{ path: "/data/v", op: "replace", from: "git", to: "x" }],
    attribution: {
      source: eventUid === undefined ? "managedFields" : "admission",
      fieldManagers: [],
      ...(eventUid === undefined
        ? {}
        : { event: { namespace: "ns", name: `cm.${eventUid}`, uid: eventUid } }),
    },
    origin: undefined,
  });
}

async function check(unseen: UnseenFacts, f: AdmissionFact, clock: FakeClock): Promise<void> {
  expect(unseen.add(f)).toBeDefined();
  await clock.advance(SETTLE_MS);
  await unseen.reconcile(f.event?.uid ?? "");
}

describe("unseen admission facts", () => {
  it("journals a fact whose edit came 1.9 s after another edit's joined record", async () => {
    const clock = new FakeClock(T0);
    const { unseen, journal, recorder } = setUp(clock);
    seenRecord(recorder, "earlier");
    await clock.advance(1900);
    await check(unseen, fact("later", clock.now()), clock);
    const records = journal.list().filter((r) => r.type === "drift-detected");
    expect(records.map((r) => r.event?.uid)).toEqual(["earlier", "later"]);
    expect(records[1]?.message).toContain("not seen as drift by the auditor");
  });

  it("takes an unjoined record from just before the fact as its change, seen before its Event", async () => {
    const clock = new FakeClock(T0);
    const { unseen, journal, recorder } = setUp(clock);
    seenRecord(recorder);
    await clock.advance(500);
    await check(unseen, fact("same", clock.now()), clock);
    expect(journal.list().filter((r) => r.type === "drift-detected")).toHaveLength(1);
  });

  it("never journals a reconciler's write (self-heal of an object no policy selects) as drift", async () => {
    const clock = new FakeClock(T0);
    const { unseen, journal } = setUp(clock);
    // Without a policy the webhook cannot tell the reconciler: its NoPolicy fact names it.
    await check(unseen, { ...fact("heal", clock.now(), RECONCILER), decision: "NoPolicy" }, clock);
    expect(journal.list()).toEqual([]);
    await check(unseen, { ...fact("edit", clock.now()), decision: "NoPolicy" }, clock);
    expect(journal.list().map((r) => r.user?.username)).toEqual(["admin"]);
  });
});
