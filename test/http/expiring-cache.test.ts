import { describe, expect, it } from "vitest";
import { bearerToken, userOf } from "../../src/http/delegated-auth.js";
import { ExpiringCache } from "../../src/http/expiring-cache.js";
import { FakeClock } from "../helpers/fake-clock.js";

describe("ExpiringCache", () => {
  it("serves an entry until its time-to-live has passed, then forgets it", async () => {
    const clock = new FakeClock();
    const cache = new ExpiringCache<string>({ clock, ttlMs: 10_000, maxEntries: 10 });
    cache.set("a", "x");
    await clock.advance(9_999);
    expect(cache.get("a")).toBe("x");
    await clock.advance(1);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("keeps at most maxEntries, dropping the least recently used", () => {
    const cache = new ExpiringCache<number>({ clock: new FakeClock(), ttlMs: 1000, maxEntries: 2 });
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // now b is the oldest use
    cache.set("c", 3);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([1, undefined, 3]);
    expect(cache.size).toBe(2);
  });

  it("restarts an entry's time when it is set again", async () => {
    const clock = new FakeClock();
    const cache = new ExpiringCache<string>({ clock, ttlMs: 100, maxEntries: 10 });
    cache.set("a", "old");
    await clock.advance(60);
    cache.set("a", "new");
    await clock.advance(60);
    expect(cache.get("a")).toBe("new");
  });
});

describe("reading a request's credentials", () => {
  it("takes one bearer token from the Authorization header, and nothing else", () => {
    expect(bearerToken("Bearer abc.def")).toBe("abc.def");
    expect(bearerToken("bearer abc")).toBe("abc");
    for (const header of [undefined, "", "Bearer", "Bearer ", "Basic YWxpY2U6eA==", "Bearer a b"]) {
      expect(bearerToken(header)).toBeUndefined();
    }
  });

  it("takes the user only from a review that authenticated one", () => {
    const user = { username: "alice", uid: "u-1", groups: ["dev", 7], extra: { scope: ["a"] } };
    expect(userOf({ authenticated: true, user })).toEqual({
      username: "alice",
      uid: "u-1",
      groups: ["dev"],
      extra: { scope: ["a"] },
    });
    expect(userOf({ authenticated: false, user })).toBeUndefined();
    expect(userOf({ authenticated: true, user: { username: "" } })).toBeUndefined();
    expect(userOf({ authenticated: true })).toBeUndefined();
    expect(userOf(undefined)).toBeUndefined();
  });
});
