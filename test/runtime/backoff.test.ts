import { describe, it, expect } from "vitest";
import { DEFAULT_BACKOFF, ExponentialBackoff } from "../../src/runtime/backoff.js";

describe("ExponentialBackoff", () => {
  it("doubles from 5 ms by default and counts failures", () => {
    const backoff = new ExponentialBackoff();
    expect([1, 2, 3, 4, 5].map(() => backoff.next("a"))).toEqual([5, 10, 20, 40, 80]);
    expect(backoff.failures("a")).toBe(5);
  });

  it("caps at 1000 s by default and stays finite after very many failures", () => {
    const backoff = new ExponentialBackoff();
    let last = 0;
    for (let i = 0; i < 2000; i++) last = backoff.next("a");
    expect(last).toBe(1_000_000);
    expect(DEFAULT_BACKOFF.maxMs).toBe(1_000_000);
    // 5 ms * 2^17 = 655 s is the last step below the cap.
    const fresh = new ExponentialBackoff();
    const delays = Array.from({ length: 19 }, () => fresh.next("a"));
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(1_000_000);
  });

  it("keeps keys independent", () => {
    const backoff = new ExponentialBackoff();
    backoff.next("a");
    backoff.next("a");
    expect(backoff.next("b")).toBe(5);
    expect(backoff.failures("a")).toBe(2);
    expect(backoff.failures("b")).toBe(1);
  });

  it("forget() starts a key over", () => {
    const backoff = new ExponentialBackoff();
    backoff.next("a");
    backoff.next("a");
    backoff.forget("a");
    expect(backoff.failures("a")).toBe(0);
    expect(backoff.next("a")).toBe(5);
  });

  it("takes its base and cap from options", () => {
    const backoff = new ExponentialBackoff({ baseMs: 100, maxMs: 350 });
    expect([1, 2, 3, 4].map(() => backoff.next("a"))).toEqual([100, 200, 350, 350]);
  });

  it("rejects options that would make no sense", () => {
    expect(() => new ExponentialBackoff({ baseMs: 0 })).toThrow(RangeError);
    expect(() => new ExponentialBackoff({ baseMs: Number.NaN })).toThrow(RangeError);
    expect(() => new ExponentialBackoff({ baseMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => new ExponentialBackoff({ maxMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });
});
