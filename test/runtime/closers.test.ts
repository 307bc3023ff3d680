import { describe, expect, it } from "vitest";
import { Closers } from "../../src/runtime/closers.js";

describe("Closers", () => {
  it("closes newest first, waits for each, and closes the rest when one fails", async () => {
    const closers = new Closers();
    const closed: string[] = [];
    closers.add(() => closed.push("journal"));
    closers.add(async () => {
      await Promise.resolve();
      closed.push("server");
    });
    closers.add(() => {
      throw new Error("informer stop failed");
    });
    closers.add(() => closed.push("queue"));
    const failures: unknown[] = [];
    await closers.closeAll((err) => failures.push(err));
    expect(closed).toEqual(["queue", "server", "journal"]);
    expect(failures).toEqual([new Error("informer stop failed")]);
    // Each closes once: a second closeAll has nothing left.
    await closers.closeAll((err) => failures.push(err));
    expect(closed).toHaveLength(3);
  });
});
