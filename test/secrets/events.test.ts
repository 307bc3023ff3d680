/**
 * The secrets controller's Unsealed and KeyGenerated Events: labelled for the auditor, one per
 * write (a second write of the same Secret is a second Event), and read back by the auditor's
 * parser as the contract says (the API server's core/v1 -> events.k8s.io/v1 view is mimicked
 * here; test/auditor/secret-records.int.test.ts goes through the real one).
 */
import { describe, expect, it } from "vitest";
import { journalEntryOfEvent } from "../../src/auditor/attribution/journal-events.js";
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import {
  keyGeneratedNote,
  keySecretEvents,
  sealedSecretEvents,
  unsealedNote,
} from "../../src/secrets/events.js";
import { createLogger } from "../../src/telemetry/log.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { sink } from "../helpers/log-sink.js";

const T0 = Date.UTC(2026, 2, 1, 10, 0, 0);

function fakeKube(): { kube: KubeClient; created: KubeObject[] } {
  const created: KubeObject[] = [];
  const kube = {
    create: (obj: KubeObject): Promise<KubeObject> => {
      created.push(obj);
      return Promise.resolve(obj);
    },
  } as unknown as KubeClient;
  return { kube, created };
}

/** What the events.k8s.io/v1 API serves for a core/v1 Event (the fields the auditor reads). */
function asServed(event: KubeObject, uid: string): KubeObject {
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: { ...event.metadata, uid, creationTimestamp: "2026-03-01T10:00:00Z" },
    reportingController: event["reportingComponent"],
    regarding: event["involvedObject"],
    related: event["related"],
    reason: event["reason"],
    note: event["message"],
  };
}

const sealed: KubeObject = {
  apiVersion: "gitops-guard.io/v1alpha1",
  kind: "SealedSecret",
  metadata: { name: "db", namespace: "shop", uid: "ss-1" },
};

function written(resourceVersion: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db", namespace: "shop", uid: "s-1", resourceVersion },
  };
}

describe("the secrets controller's Events", () => {
  it("one Unsealed Event per write, labelled and annotated for the auditor", async () => {
    const { kube, created } = fakeKube();
    const logger = createLogger({ level: "silent", destination: sink().stream });
    const events = sealedSecretEvents({ kube, clock: new FakeClock(T0), logger });
    const note = (rv: string) =>
      unsealedNote({
        key: "shop/db",
        created: rv === "1",
        secret: written(rv),
        keys: new Set(["SHA256:k"]),
      });
    await events.record(sealed, note("1"));
    await events.record(sealed, note("1"));
    await events.record(sealed, note("2"));
    expect(created).toHaveLength(2);
    expect(created[0]).toMatchObject({
      metadata: {
        namespace: "shop",
        labels: { "app.kubernetes.io/managed-by": "gitops-guard" },
        annotations: {
          "gitops-guard.io/secret-write": "created",
          "gitops-guard.io/key-fingerprints": '["SHA256:k"]',
          "gitops-guard.io/field-manager": "gitops-guard (Apply)",
        },
      },
      involvedObject: { kind: "SealedSecret", name: "db", uid: "ss-1" },
      related: { kind: "Secret", name: "db", uid: "s-1", resourceVersion: "1" },
      reason: "Unsealed",
      reportingComponent: "gitops-guard.io/secrets",
      message: "SealedSecret unsealed into Secret shop/db (opened with key SHA256:k)",
    });
    const entry = journalEntryOfEvent(asServed(created[1]!, "e-2"), { keyNamespace: "gg" })?.entry;
    expect(entry).toMatchObject({
      type: "secret-materialised",
      object: { kind: "Secret", namespace: "shop", name: "db", uid: "s-1" },
      message:
        "updated from SealedSecret shop/db (gitops-guard.io/v1alpha1), opened with key SHA256:k",
    });
  });

  it("a KeyGenerated Event with the fingerprint and validity, nothing of the key", async () => {
    const { kube, created } = fakeKube();
    const logger = createLogger({ level: "silent", destination: sink().stream });
    const events = keySecretEvents({ kube, clock: new FakeClock(T0), logger });
    const keySecret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "sealing-key-initial", namespace: "gg", uid: "k-1" },
    };
    const note = keyGeneratedNote({
      fingerprint: "SHA256:abc",
      notBefore: T0,
      notAfter: T0 + 3_600_000,
      trigger: "on-demand",
    });
    await events.record(keySecret, note);
    expect(created[0]).toMatchObject({
      reason: "KeyGenerated",
      message:
        "New sealing key SHA256:abc (on-demand), certificate valid from 2026-03-01T10:00:00Z to 2026-03-01T11:00:00Z",
    });
    const entry = journalEntryOfEvent(asServed(created[0]!, "e-k"), { keyNamespace: "gg" })?.entry;
    expect(entry).toMatchObject({
      type: "key-rotated",
      object: { apiVersion: "v1", kind: "Secret", namespace: "gg", name: "sealing-key-initial" },
      message:
        "sealing key SHA256:abc generated (on-demand), certificate valid from 2026-03-01T10:00:00Z to 2026-03-01T11:00:00Z",
    });
  });
});
