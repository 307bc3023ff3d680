// Attribution facts in as few API writes as a burst allows: the first fact in a namespace at
// once, the rest of its burst in one Event per window, each still a fact of its own (about its
// own object) to the auditor.
import { describe, expect, it } from "vitest";
import { decide } from "../../src/admission/decide.js";
import type { EventInput, EventSink } from "../../src/admission/events.js";
import { FactBatches } from "../../src/admission/fact-batches.js";
import { parseAdmissionFacts } from "../../src/auditor/attribution/admission-events.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { HOUR, NOW, bob, defaultPolicy, deployment, glass, request } from "./helpers.js";

const policy = defaultPolicy();
const mark = glass("bob", "INC-7", NOW + HOUR);

function recording(): EventSink & { readonly events: KubeObject[] } {
  const events: KubeObject[] = [];
  return { events, emit: (event) => void events.push(event) };
}

/** bob's break-glass edit setting the image to tag, as the webhook judged it at now. */
function glassEdit(tag: string, now: number, name = "web", namespace = "shop"): EventInput {
  const req = request({
    actor: bob,
    name,
    namespace,
    object: deployment(mark, { image: `web:edit-${tag}` }),
    oldObject: deployment(mark),
  });
  return {
    decision: decide(req, [policy], NOW),
    request: req,
    now,
    instance: "pod-1",
    id: `id-${tag}`,
  };
}

/** The Event as the API server would give it back: with a uid. */
function stored(event: KubeObject, uid: string): KubeObject {
  return { ...event, metadata: { ...event.metadata, uid } };
}

describe("fact batches", () => {
  it("sends an isolated fact at once, and a burst in one namespace as one Event per window", async () => {
    const clock = new FakeClock(NOW);
    const sink = recording();
    const batches = new FactBatches({ sink, clock, windowMs: 250 });
    batches.add(glassEdit("1", clock.now()));
    expect(sink.events).toHaveLength(1);
    for (let i = 2; i <= 40; i++) {
      await clock.advance(5);
      batches.add(glassEdit(String(i), clock.now()));
    }
    expect(sink.events).toHaveLength(1);
    await clock.advance(250);
    expect(sink.events).toHaveLength(2);
    // The window after a batch stays open while the burst goes on: another object of the
    // namespace joins it, and another namespace is not held back by it.
    batches.add(glassEdit("x", clock.now(), "api"));
    batches.add(glassEdit("y", clock.now(), "web", "other"));
    expect(sink.events).toHaveLength(3);
    batches.add(glassEdit("41", clock.now()));
    await clock.advance(250);
    expect(sink.events).toHaveLength(4);
    // A quiet window closes.
    await clock.advance(250);
    expect(clock.pending()).toBe(0);

    const facts = sink.events.flatMap((e, i) => parseAdmissionFacts(stored(e, `uid-${String(i)}`)));
    expect(facts).toHaveLength(43);
    expect(new Set(facts.map((f) => f.event?.uid)).size).toBe(43);
    // Each fact of a shared Event names its own object.
    const shared = facts.filter((f) => f.event?.uid.startsWith("uid-3"));
    expect(shared.map((f) => [f.namespace, f.name])).toEqual([
      ["shop", "api"],
      ["shop", "web"],
    ]);
    expect(facts.find((f) => f.event?.uid === "uid-2")).toMatchObject({
      namespace: "other",
      name: "web",
    });
    expect(
      facts.filter((f) => f.user.username !== "bob" || f.breakGlass?.reason !== "INC-7"),
    ).toEqual([]);
    const burst = facts.filter((f) => f.event?.uid.startsWith("uid-1"));
    expect(burst).toHaveLength(39);
    expect(burst[0]?.timeMs).toBe(NOW + 5);
    expect(burst.at(-1)?.timeMs).toBe(NOW + 39 * 5);
    expect(sink.events[1]?.["note"]).toMatch(/^39 out-of-band changes in a burst by bob/);
  });

  it("bounds what waits, and sends it when flushed (the webhook stopping)", () => {
    const clock = new FakeClock(NOW);
    const sink = recording();
    let dropped = 0;
    const batches = new FactBatches({
      sink,
      clock,
      maxPending: 3,
      maxPerEvent: 100,
      onDropped: () => dropped++,
    });
    for (let i = 0; i < 6; i++) batches.add(glassEdit(String(i), clock.now()));
    expect(dropped).toBe(2);
    batches.flush();
    expect(sink.events).toHaveLength(2);
    expect(parseAdmissionFacts(stored(sink.events[1] as KubeObject, "u"))).toHaveLength(3);
    expect(clock.pending()).toBe(0);
  });

  it("sends a batch before its annotations near the API server's 256 KiB limit", () => {
    const clock = new FakeClock(NOW);
    const sink = recording();
    const batches = new FactBatches({ sink, clock, windowMs: 250 });
    const long = (tag: string): EventInput => {
      const input = glassEdit(tag, clock.now());
      const fields = Array.from({ length: 1500 }, (_, i) => `/data/setting-${tag}-${String(i)}`);
      return { ...input, decision: { ...input.decision, changedFields: fields } };
    };
    for (let i = 0; i < 6; i++) batches.add(long(String(i)));
    batches.flush();
    expect(sink.events.length).toBeGreaterThan(2);
    for (const event of sink.events) {
      const size = JSON.stringify(event.metadata.annotations).length;
      expect(size).toBeLessThan(256 * 1024);
    }
    const facts = sink.events.flatMap((e, i) => parseAdmissionFacts(stored(e, `e${String(i)}`)));
    expect(facts).toHaveLength(6);
  });

  it("keeps each request's user UID in a burst's more-facts, as the auditor reads it", () => {
    const clock = new FakeClock(NOW);
    const sink = recording();
    const batches = new FactBatches({ sink, clock, windowMs: 250 });
    const withUid = (input: EventInput, uid: string | undefined): EventInput => ({
      ...input,
      request: {
        ...input.request,
        userInfo: { ...input.request.userInfo, ...(uid === undefined ? {} : { uid }) },
      },
    });
    batches.add(withUid(glassEdit("1", clock.now()), "uid-a"));
    batches.add(withUid(glassEdit("2", clock.now()), "uid-b"));
    batches.add(withUid(glassEdit("3", clock.now()), undefined));
    batches.flush();
    const facts = sink.events.flatMap((e, i) => parseAdmissionFacts(stored(e, `e${String(i)}`)));
    expect(facts.map((f) => f.user)).toEqual([
      { username: "bob", groups: bob.groups, uid: "uid-a" },
      { username: "bob", groups: bob.groups, uid: "uid-b" },
      { username: "bob", groups: bob.groups },
    ]);
  });
});
