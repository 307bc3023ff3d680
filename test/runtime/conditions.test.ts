import { describe, it, expect } from "vitest";
import {
  conditionsEqual,
  findCondition,
  isTrue,
  removeCondition,
  rfc3339,
  setCondition,
  type Condition,
} from "../../src/runtime/conditions.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const T1 = T0 + 60_000;

const ready: Condition = Object.freeze({
  type: "Ready",
  status: "True",
  reason: "Applied",
  message: "revision abc applied",
  observedGeneration: 3,
  lastTransitionTime: "2026-01-01T12:00:00Z",
});
const healthy: Condition = Object.freeze({
  type: "Healthy",
  status: "True",
  reason: "AllHealthy",
  message: "",
  observedGeneration: 3,
  lastTransitionTime: "2026-01-01T12:00:00Z",
});

describe("rfc3339", () => {
  it("formats with second precision like metav1.Time", () => {
    expect(rfc3339(T0)).toBe("2026-01-01T12:00:00Z");
    expect(rfc3339(T0 + 999)).toBe("2026-01-01T12:00:00Z");
  });
});

describe("setCondition", () => {
  it("appends a new condition with lastTransitionTime set from now", () => {
    const before = Object.freeze([ready]);
    const after = setCondition(
      before,
      { type: "Drifted", status: "False", reason: "InSync", message: "", observedGeneration: 3 },
      T1,
    );
    expect(after).toEqual([
      ready,
      {
        type: "Drifted",
        status: "False",
        reason: "InSync",
        message: "",
        observedGeneration: 3,
        lastTransitionTime: "2026-01-01T12:01:00Z",
      },
    ]);
    expect(before).toEqual([ready]);
    expect(after).not.toBe(before);
  });

  it("keeps lastTransitionTime when status does not flip, but updates the other fields", () => {
    const after = setCondition(
      [ready],
      {
        type: "Ready",
        status: "True",
        reason: "Reapplied",
        message: "rev def",
        observedGeneration: 4,
      },
      T1,
    );
    expect(after).toEqual([
      {
        type: "Ready",
        status: "True",
        reason: "Reapplied",
        message: "rev def",
        observedGeneration: 4,
        lastTransitionTime: ready.lastTransitionTime,
      },
    ]);
  });

  it("moves lastTransitionTime when status flips", () => {
    const after = setCondition(
      [ready],
      { type: "Ready", status: "False", reason: "ApplyFailed", message: "denied" },
      T1,
    );
    expect(after[0]?.status).toBe("False");
    expect(after[0]?.lastTransitionTime).toBe("2026-01-01T12:01:00Z");
    expect(after[0]?.observedGeneration).toBeUndefined();
    expect(ready.status).toBe("True");
  });

  it("uses an explicit lastTransitionTime on a flip or a new condition", () => {
    const explicit = "2025-12-31T00:00:00Z";
    const flipped = setCondition(
      [ready],
      { ...ready, status: "Unknown", lastTransitionTime: explicit },
      T1,
    );
    expect(flipped[0]?.lastTransitionTime).toBe(explicit);
    const added = setCondition([], { ...healthy, lastTransitionTime: explicit }, T1);
    expect(added[0]?.lastTransitionTime).toBe(explicit);
    // Without a flip the existing time wins, as in apimachinery.
    const same = setCondition([ready], { ...ready, lastTransitionTime: explicit }, T1);
    expect(same[0]?.lastTransitionTime).toBe(ready.lastTransitionTime);
  });

  it("keeps the position of an updated condition", () => {
    const drifted: Condition = { ...healthy, type: "Drifted", status: "False" };
    const after = setCondition([ready, healthy, drifted], { ...healthy, status: "False" }, T1);
    expect(after.map((c) => c.type)).toEqual(["Ready", "Healthy", "Drifted"]);
    expect(after[1]?.status).toBe("False");
  });

  it("drops properties that are not part of a condition", () => {
    const extra = { ...healthy, secret: "value" };
    const after = setCondition([], extra, T1);
    expect(Object.keys(after[0] ?? {})).not.toContain("secret");
  });
});

describe("condition queries", () => {
  it("findCondition, isTrue and removeCondition", () => {
    const list = [ready, { ...healthy, status: "False" as const }];
    expect(findCondition(list, "Healthy")?.status).toBe("False");
    expect(findCondition(list, "Missing")).toBeUndefined();
    expect(findCondition(undefined, "Ready")).toBeUndefined();
    expect(isTrue(list, "Ready")).toBe(true);
    expect(isTrue(list, "Healthy")).toBe(false);
    expect(isTrue(undefined, "Ready")).toBe(false);
    expect(removeCondition(list, "Ready").map((c) => c.type)).toEqual(["Healthy"]);
    expect(list).toHaveLength(2);
  });
});

describe("conditionsEqual", () => {
  it("is true when re-setting the same condition, so the status write can be skipped", () => {
    const live = [ready, healthy];
    const { type, status, reason, message } = ready;
    const computed = setCondition(
      live,
      { type, status, reason, message, observedGeneration: 3 },
      T1,
    );
    expect(conditionsEqual(live, computed)).toBe(true);
  });

  it("ignores order and treats missing lists as empty", () => {
    expect(conditionsEqual([ready, healthy], [healthy, ready])).toBe(true);
    expect(conditionsEqual(undefined, [])).toBe(true);
    expect(conditionsEqual(undefined, [ready])).toBe(false);
  });

  it("sees every field that changes", () => {
    const changes: Partial<Condition>[] = [
      { status: "False" },
      { reason: "Other" },
      { message: "other" },
      { observedGeneration: 4 },
      { lastTransitionTime: "2026-01-02T00:00:00Z" },
      { type: "Other" },
    ];
    for (const change of changes) {
      expect(conditionsEqual([ready, healthy], [{ ...ready, ...change }, healthy])).toBe(false);
    }
    expect(conditionsEqual([ready], [ready, healthy])).toBe(false);
  });
});
