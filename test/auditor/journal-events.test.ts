/**
 * gitops-guard's Events that are journal records of their own: parsing (a broken Event is
 * ignored, never a crash) and exactly one record per Event across restarts and relists.
 */
import { afterEach, describe, expect, it } from "vitest";
import { decide } from "../../src/admission/decide.js";
import { admissionEvent } from "../../src/admission/events.js";
import { parseAdmissionEvent } from "../../src/auditor/attribution/admission-events.js";
import { journalEntryOfEvent } from "../../src/auditor/attribution/journal-events.js";
import { EventJournal, SKEW_MS } from "../../src/auditor/event-journal.js";
import { JournalStore } from "../../src/auditor/journal/store.js";
import { createAuditorMetrics } from "../../src/auditor/metrics.js";
import { DriftRecorder } from "../../src/auditor/recorder.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { alice, defaultPolicy, deployment, request } from "../admission/helpers.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { sink } from "../helpers/log-sink.js";

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);
const KEY_NS = "gitops-guard-system";
const options = { keyNamespace: KEY_NS };

/** An Event as the API server returns it: uid and creationTimestamp set. */
function served(event: KubeObject, uid: string, createdMs = T0): KubeObject {
  const creationTimestamp = new Date(createdMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  return { ...event, metadata: { ...event.metadata, uid, creationTimestamp } };
}

function denialEvent(uid = "e-1", createdMs = T0): KubeObject {
  const req = request({ actor: alice, object: deployment({}, { image: "web:2" }) });
  const decision = decide(req, [defaultPolicy()], createdMs);
  return served(
    admissionEvent({ decision, request: req, now: createdMs, instance: "p", id: uid }),
    uid,
    createdMs,
  );
}

/** The events.k8s.io/v1 view of the secrets controller's core/v1 Unsealed Event. */
function unsealedEvent(annotations: Record<string, string> = {}): KubeObject {
  return served(
    {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: {
        name: "db.1",
        namespace: "shop",
        labels: { "app.kubernetes.io/managed-by": "gitops-guard" },
        annotations: {
          "gitops-guard.io/secret-write": "created",
          "gitops-guard.io/key-fingerprints": '["SHA256:abc+/def"]',
          "gitops-guard.io/field-manager": "gitops-guard (Apply)",
          ...annotations,
        },
      },
      reportingController: "gitops-guard.io/secrets",
      reason: "Unsealed",
      type: "Normal",
      regarding: {
        apiVersion: "gitops-guard.io/v1alpha1",
        kind: "SealedSecret",
        namespace: "shop",
        name: "db",
      },
      related: { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db", uid: "s-1" },
      note: "SealedSecret unsealed into Secret shop/db",
    },
    "u-1",
  );
}

function keyEvent(namespace = KEY_NS, annotations: Record<string, string> = {}): KubeObject {
  return served(
    {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: {
        name: "sealing-key-initial.1",
        namespace,
        annotations: {
          "gitops-guard.io/key-fingerprint": "SHA256:k3y",
          "gitops-guard.io/key-not-before": "2026-03-01T10:00:00Z",
          "gitops-guard.io/key-not-after": "2036-02-27T10:00:00Z",
          "gitops-guard.io/key-trigger": "initial",
          ...annotations,
        },
      },
      reportingController: "gitops-guard.io/secrets",
      reason: "KeyGenerated",
      regarding: { apiVersion: "v1", kind: "Secret", namespace, name: "sealing-key-initial" },
    },
    "k-1",
  );
}

describe("journal entries from gitops-guard's Events", () => {
  it("a denial: the object, alice and her groups, the paths tried, the policy", () => {
    const event = denialEvent();
    expect(parseAdmissionEvent(event)).toBeUndefined();
    expect(journalEntryOfEvent(event, options)).toEqual({
      createdMs: T0,
      entry: {
        type: "admission-denied",
        object: { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" },
        user: { username: "alice", groups: ["developers", "system:authenticated"] },
        diff: [{ path: "/spec/template/spec/containers/0/image", op: "replace" }],
        reason: "OutOfBandChange",
        message: `UPDATE denied by GuardPolicy ${defaultPolicy().name}`,
        event: { namespace: "shop", name: event.metadata.name, uid: "e-1" },
      },
    });
  });

  it("a Secret unsealed and a key generated, by the contract's names", () => {
    expect(journalEntryOfEvent(unsealedEvent(), options)?.entry).toEqual({
      type: "secret-materialised",
      object: { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db", uid: "s-1" },
      fieldManagers: ["gitops-guard (Apply)"],
      message:
        "created from SealedSecret shop/db (gitops-guard.io/v1alpha1), opened with key SHA256:abc+/def",
      event: { namespace: "shop", name: "db.1", uid: "u-1" },
    });
    expect(journalEntryOfEvent(keyEvent(), options)?.entry).toMatchObject({
      type: "key-rotated",
      object: { kind: "Secret", namespace: KEY_NS, name: "sealing-key-initial" },
      message:
        "sealing key SHA256:k3y generated (initial), certificate valid from 2026-03-01T10:00:00Z to 2036-02-27T10:00:00Z",
    });
  });

  it("ignores broken or foreign Events, and what is not a path or a fingerprint", () => {
    const denial = denialEvent();
    const broken = (e: KubeObject, annotations: Record<string, string>): KubeObject => ({
      ...e,
      metadata: { ...e.metadata, annotations },
    });
    expect(journalEntryOfEvent(broken(denial, {}), options)).toBeUndefined();
    const junk = broken(denial, {
      "gitops-guard.io/user": "alice",
      "gitops-guard.io/groups": "{",
      "gitops-guard.io/changed-fields": '["/spec/x", "hunter2", 7, "/a\\nb"]',
    });
    expect(journalEntryOfEvent(junk, options)?.entry).toMatchObject({
      user: { username: "alice", groups: [] },
      diff: [{ path: "/spec/x", op: "replace" }],
      message: "request denied",
    });
    const { uid: _uid, ...withoutUid } = denial.metadata;
    const noUid = { ...denial, metadata: withoutUid };
    expect(journalEntryOfEvent(noUid, options)).toBeUndefined();
    expect(journalEntryOfEvent({ ...denial, regarding: "x" }, options)).toBeUndefined();
    expect(
      journalEntryOfEvent({ ...denial, reportingController: "kubelet" }, options),
    ).toBeUndefined();
    const unsealed = unsealedEvent({ "gitops-guard.io/key-fingerprints": '"not a list"' });
    expect(journalEntryOfEvent(unsealed, options)?.entry.message).toBe(
      "created from SealedSecret shop/db (gitops-guard.io/v1alpha1)",
    );
    const noRelated = { ...unsealedEvent(), related: null };
    expect(journalEntryOfEvent(noRelated, options)).toBeUndefined();
    const notSecret = {
      ...unsealedEvent(),
      related: { apiVersion: "v1", kind: "ConfigMap", name: "db" },
    };
    expect(journalEntryOfEvent(notSecret, options)).toBeUndefined();
    // A key Secret lives in the controller's namespace; elsewhere it is someone else's Event.
    expect(journalEntryOfEvent(keyEvent("shop"), options)).toBeUndefined();
    const badFingerprint = keyEvent(KEY_NS, { "gitops-guard.io/key-fingerprint": "a b" });
    expect(journalEntryOfEvent(badFingerprint, options)).toBeUndefined();
    const bare = keyEvent(KEY_NS, {});
    delete bare.metadata.annotations?.["gitops-guard.io/key-not-after"];
    expect(journalEntryOfEvent(bare, options)?.entry.message).toContain("to ?");
  });
});

describe("EventJournal", () => {
  const stores: JournalStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
  });

  function journalAt(clock: FakeClock): (journal?: JournalStore) => {
    journal: JournalStore;
    events: EventJournal;
  } {
    return (existing) => {
      const journal = existing ?? JournalStore.open(":memory:", clock);
      if (existing === undefined) stores.push(journal);
      const recorder = new DriftRecorder({
        journal,
        metrics: createAuditorMetrics(createMetrics().registry, () => 0),
        logger: createLogger({ level: "silent", destination: sink().stream }),
      });
      const events = EventJournal.open({
        journal,
        recorder,
        logger: createLogger({ level: "silent", destination: sink().stream }),
        keyNamespace: KEY_NS,
        startMs: clock.now(),
      });
      return { journal, events };
    };
  }

  it("journals each Event once, across relists and restarts", async () => {
    const clock = new FakeClock(T0);
    const open = journalAt(clock);
    const first = open();
    const denial = denialEvent("e-1", T0);
    expect(first.events.onEvent(denial)?.type).toBe("admission-denied");
    expect(first.events.onEvent(denial)).toBeUndefined();
    expect(first.events.onEvent(unsealedEvent())?.type).toBe("secret-materialised");
    await clock.advance(60_000);
    // A new leader on the same journal: what is there is not written again; what came while
    // nobody ran is.
    const second = open(first.journal);
    expect(second.events.onEvent(denial)).toBeUndefined();
    expect(second.events.onEvent(unsealedEvent())).toBeUndefined();
    expect(second.events.onEvent(denialEvent("e-2", T0 + 30_000))?.type).toBe("admission-denied");
    expect(first.journal.list().map((r) => r.event?.uid)).toEqual(["e-1", "u-1", "e-2"]);
  });

  it("takes the Events found on a first start as the baseline", async () => {
    const clock = new FakeClock(T0 + 3_600_000);
    const { events, journal } = journalAt(clock)();
    expect(events.onEvent(denialEvent("old", T0))).toBeUndefined();
    expect(events.onEvent(denialEvent("new", T0 + 3_600_000))?.user?.username).toBe("alice");
    // A restart much later catches up on Events since its newest record, minus the skew.
    await clock.advance(3_600_000);
    const later = journalAt(clock)(journal);
    expect(later.events.onEvent(denialEvent("gap", T0 + 3_600_000 - SKEW_MS / 2))?.type).toBe(
      "admission-denied",
    );
    expect(
      later.events.onEvent(denialEvent("older", T0 + 3_600_000 - 2 * SKEW_MS)),
    ).toBeUndefined();
  });
});
