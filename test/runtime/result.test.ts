import { describe, it, expect } from "vitest";
import { TerminalError, done, isTerminalError, requeueAfter } from "../../src/runtime/result.js";

describe("reconcile results", () => {
  it("done() asks for nothing more", () => {
    expect(done()).toEqual({});
    expect(done().requeueAfterMs).toBeUndefined();
  });

  it("requeueAfter() carries the delay and rejects nonsense", () => {
    expect(requeueAfter(30_000)).toEqual({ requeueAfterMs: 30_000 });
    expect(requeueAfter(0).requeueAfterMs).toBe(0);
    expect(() => requeueAfter(-1)).toThrow(RangeError);
    expect(() => requeueAfter(Number.NaN)).toThrow(RangeError);
    expect(() => requeueAfter(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it("TerminalError is an Error with a name, an optional code and a cause", () => {
    const cause = new Error("bad base64");
    const err = new TerminalError("cannot decrypt", { code: "DecryptFailed", cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("TerminalError");
    expect(err.code).toBe("DecryptFailed");
    expect(err.cause).toBe(cause);
    expect(new TerminalError("plain").code).toBeUndefined();
    expect(isTerminalError(err)).toBe(true);
    expect(isTerminalError(new Error("x"))).toBe(false);
    expect(isTerminalError("TerminalError")).toBe(false);
  });
});
