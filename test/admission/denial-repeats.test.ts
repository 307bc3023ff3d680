/** One Event per denial and window: retries are one attempt; other attempts are not. */
import { describe, expect, it } from "vitest";
import { decide } from "../../src/admission/decide.js";
import {
  DENIAL_WINDOW_MS,
  DenialRepeats,
  decisionEvents,
} from "../../src/admission/denial-repeats.js";
import type { EventSink } from "../../src/admission/events.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { HOUR, NOW, alice, bob, defaultPolicy, deployment, glass, request } from "./helpers.js";

function recording(): EventSink & { readonly events: KubeObject[] } {
  const events: KubeObject[] = [];
  return {
    events,
    emit(event) {
      events.push(event);
    },
  };
}

const policy = defaultPolicy();
const edit = (image: string, actor = alice) =>
  request({ actor, object: deployment({}, { image }) });

describe("denial Events", () => {
  it("one per user, object, fields and window, however often the edit is retried", () => {
    const clock = new FakeClock(NOW);
    const sink = recording();
    const onDecision = decisionEvents({ sink, clock, instance: "pod-1" });
    for (let i = 0; i < 10; i++) onDecision(decide(edit("web:2"), [policy], NOW), edit("web:2"));
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]?.["action"]).toBe("Deny");
    // Another value of the same field is the same attempt; another user's is not.
    onDecision(decide(edit("web:3"), [policy], NOW), edit("web:3"));
    expect(sink.events).toHaveLength(1);
    const byBob = request({ actor: bob, object: deployment({}, { image: "web:2" }) });
    onDecision(decide(byBob, [policy], NOW), byBob);
    expect(sink.events).toHaveLength(2);
  });

  it("names the Event after the attempt and its window: replicas write the same name", () => {
    const a = new DenialRepeats();
    const b = new DenialRepeats();
    const decision = decide(edit("web:2"), [policy], NOW);
    const first = a.idFor(decision, edit("web:2"), NOW);
    expect(first).toMatch(/^[0-9a-f]{16}$/);
    expect(b.idFor(decision, edit("web:2"), NOW + 1000)).toBe(first);
    expect(a.idFor(decision, edit("web:2"), NOW + 1000)).toBeUndefined();
    const next = a.idFor(decision, edit("web:2"), NOW + DENIAL_WINDOW_MS);
    expect(next).toBeDefined();
    expect(next).not.toBe(first);
  });

  it("never writes one for a dry run, and gives allowed changes a fresh name each", () => {
    const clock = new FakeClock(NOW);
    const sink = recording();
    const onDecision = decisionEvents({ sink, clock, instance: "pod-1" });
    const dry = request({ actor: alice, object: deployment({}, { image: "x" }), dryRun: true });
    onDecision(decide(dry, [policy], NOW), dry);
    expect(sink.events).toEqual([]);
    const mark = glass("bob", "INC-7", NOW + HOUR);
    const glassEdit = request({
      actor: bob,
      object: deployment(mark, { image: "web:2" }),
      oldObject: deployment(mark),
    });
    const allowed = decide(glassEdit, [policy], NOW);
    onDecision(allowed, glassEdit);
    onDecision(allowed, glassEdit);
    expect(sink.events.map((e) => e["reason"])).toEqual(["BreakGlass", "BreakGlass"]);
    expect(sink.events[0]?.metadata.name).not.toBe(sink.events[1]?.metadata.name);
  });

  it("with facts off, tells denials only (what the attribution facts cost is measured so)", () => {
    const sink = recording();
    const onDecision = decisionEvents({
      sink,
      clock: new FakeClock(NOW),
      instance: "p",
      facts: false,
    });
    const mark = glass("bob", "INC-7", NOW + HOUR);
    const glassEdit = request({
      actor: bob,
      object: deployment(mark, { image: "web:2" }),
      oldObject: deployment(mark),
    });
    onDecision(decide(glassEdit, [policy], NOW), glassEdit);
    onDecision(decide(edit("web:2"), [policy], NOW), edit("web:2"));
    expect(sink.events.map((e) => e["reason"])).toEqual(["OutOfBandChange"]);
  });
});
