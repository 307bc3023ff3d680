// The requester's UID, from the admission webhook's Event (or the audit webhook) to the journal
// record and the record view; records written before it existed still verify.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/admission/decide.js";
import { USER_UID_ANNOTATION as WRITTEN, admissionEvent } from "../../src/admission/events.js";
import {
  USER_UID_ANNOTATION as READ,
  parseAdmissionFacts,
} from "../../src/auditor/attribution/admission-events.js";
import { attribute } from "../../src/auditor/attribution/attribute.js";
import { createAuditParser } from "../../src/auditor/attribution/audit-events.js";
import { recordBody, type JournalRecord } from "../../src/auditor/journal/record.js";
import { JournalStore } from "../../src/auditor/journal/store.js";
import { linksOf, verifyChain } from "../../src/auditor/journal/verify.js";
import { renderRecordPage } from "../../src/auditor/status/record-page.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { HOUR, NOW, bob, defaultPolicy, deployment, glass, request } from "../admission/helpers.js";

const BOB_UID = "3b0c6d1e-0f4a-4c55-9a51-7c1d2e3f4a5b";

/** bob's break-glass edit of shop/web as the webhook's Event, stored (with a uid) and parsed. */
function bobsFact(uid: string | undefined): ReturnType<typeof parseAdmissionFacts> {
  const mark = glass("bob", "INC-7", NOW + HOUR);
  const req = request({
    actor: bob,
    object: deployment(mark, { image: "web:2" }),
    oldObject: deployment(mark),
  });
  const withUid = uid === undefined ? req : { ...req, userInfo: { ...req.userInfo, uid } };
  const decision = decide(withUid, [defaultPolicy()], NOW);
  const event = admissionEvent({ decision, request: withUid, now: NOW, instance: "p", id: "1" });
  return parseAdmissionFacts({ ...event, metadata: { ...event.metadata, uid: "event-1" } });
}

describe("the requester's UID", () => {
  it("goes from the webhook's Event through attribution into the journal, and verifies", () => {
    expect(READ).toBe(WRITTEN);
    const [fact] = bobsFact(BOB_UID);
    expect(fact?.user).toEqual({ username: "bob", groups: bob.groups, uid: BOB_UID });
    const attribution = attribute({
      object: { group: "apps", kind: "Deployment", namespace: "shop", name: "web" },
      managers: [],
      sinceMs: NOW - 1000,
      observedMs: NOW + 100,
      audit: [],
      admission: fact === undefined ? [] : [fact],
      paths: ["/spec/template/spec/containers/0/image"],
    });
    expect(attribution).toMatchObject({ source: "admission", user: { uid: BOB_UID } });

    const journal = JournalStore.open(":memory:", new FakeClock(NOW));
    const object = { apiVersion: "apps/v1", kind: "Deployment", namespace: "shop", name: "web" };
    // A record as written before the UID existed, then one with it: one chain.
    const old = journal.append({
      type: "drift-detected",
      object,
      user: { username: "alice", groups: [] },
    });
    const named = journal.append({
      type: "break-glass",
      object,
      ...(attribution.user === undefined ? {} : { user: attribution.user }),
      userSource: attribution.source,
    });
    expect(named.user).toEqual({ username: "bob", groups: bob.groups, uid: BOB_UID });
    expect(recordBody(old)).not.toContain("uid");
    const exported = JSON.parse(JSON.stringify(journal.list({ limit: 10 }))) as JournalRecord[];
    expect(verifyChain(linksOf(exported))).toMatchObject({ ok: true, count: 2 });
    expect(verifyChain(journal.links())).toMatchObject({ ok: true, count: 2 });
    // The UID is part of what the hash covers: changing it breaks the chain.
    const forged = exported.map((r) =>
      r.seq === named.seq ? { ...r, user: { username: "bob", groups: bob.groups, uid: "x" } } : r,
    );
    expect(verifyChain(linksOf(forged))).toMatchObject({ ok: false, problem: "changed" });
    journal.close();
  });

  it("is absent when the API server gave none, and shown with who on the record view", () => {
    const [fact] = bobsFact(undefined);
    expect(fact?.user).toEqual({ username: "bob", groups: bob.groups });
    const record: JournalRecord = {
      seq: 3,
      time: new Date(NOW).toISOString(),
      type: "drift-detected",
      object: { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "web" },
      user: { username: "system:serviceaccount:shop:deployer", groups: [], uid: BOB_UID },
      userSource: "admission",
      prevHash: "a".repeat(64),
      hash: "b".repeat(64),
    };
    const html = renderRecordPage({ record }, NOW);
    const who = html.slice(html.indexOf('<th scope="row">Who</th>'), html.indexOf("Source of who"));
    expect(who).toContain("system:serviceaccount:shop:deployer");
    expect(who).toContain(`uid <code>${BOB_UID}</code>`);
  });

  it("comes from the audit webhook's events too", () => {
    const facts = createAuditParser()({
      apiVersion: "audit.k8s.io/v1",
      kind: "EventList",
      items: [
        {
          auditID: "1",
          stage: "ResponseComplete",
          verb: "update",
          requestReceivedTimestamp: "2026-03-01T10:00:00.000000Z",
          user: { username: "bob", uid: BOB_UID, groups: ["incident-responders"] },
          objectRef: { resource: "configmaps", namespace: "n", name: "c" },
          responseStatus: { code: 200 },
        },
      ],
    });
    expect(facts?.[0]?.user).toEqual({
      username: "bob",
      groups: ["incident-responders"],
      uid: BOB_UID,
    });
  });
});
