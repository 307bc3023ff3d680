/**
 * createSecretsComponent's run when its start fails after it opened things: the unseal threads,
 * the Secret watches and the SealedSecret informers (started and synced against the real API
 * server) are all closed on the way out, not left running behind a rejected run.
 */
import { pbkdf2 } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createServices } from "../../src/main.js";
import { createSecretsComponent } from "../../src/secrets/component.js";
import { createLogger } from "../../src/telemetry/log.js";
import { eventually, testNamespace } from "../envtest/context.js";
import { sink } from "../helpers/log-sink.js";
import { configFor } from "./harness.js";

/**
 * The OS threads of this process: each unseal thread adds some (its own V8 isolate's). libuv's
 * pool starts its threads on first use and keeps them, so it is started before counting.
 */
function threads(): number {
  const status = readFileSync("/proc/self/status", "utf8");
  return Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? "0");
}

const STARTED = '"msg":"secrets controller started"';

describe("the secrets component's start", () => {
  it("closes the unseal threads, watches and informers it opened when a later step fails", async () => {
    const namespace = await testNamespace("secrets-start");
    const config = configFor(namespace, "replica-1");
    expect(config.unsealThreads).toBeGreaterThan(0);
    const services = createServices(config, { logDestination: sink().stream });
    // The last step of the start fails: logging that it started, once everything is open,
    // started and synced. Nothing else is faked.
    let open: { threads: number; readiness: Record<string, boolean> } | undefined;
    const logger = createLogger({
      level: "info",
      destination: {
        write(line: string): void {
          if (!line.includes(STARTED)) return;
          open = { threads: threads(), readiness: component.readiness() };
          throw new Error("injected: the start fails");
        },
      },
    });
    const component = createSecretsComponent(
      { ...services, config, logger },
      { watchNamespace: namespace, keyBits: 2048 },
    );
    await new Promise((resolve) => {
      pbkdf2("warm", "the libuv pool", 1, 32, "sha256", resolve);
    });
    const before = threads();
    const abort = new AbortController();
    await expect(component.run(abort.signal)).rejects.toThrow("injected: the start fails");
    // What the run opened is gone: no informer reports itself synced (their caches are
    // stopped), and the unseal threads have exited.
    const readiness = component.readiness();
    expect(readiness["informer:sealedsecrets"]).toBe(false);
    expect(readiness["informer:secrets"]).toBe(false);
    // When it failed, the threads ran and the informers had synced.
    expect(open?.threads).toBeGreaterThan(before);
    expect(open?.readiness).toMatchObject({
      "informer:sealedsecrets": true,
      "informer:secrets": true,
    });
    await eventually(
      `the unseal threads to exit (${String(before)} threads before the run)`,
      () => threads() <= before,
    );
    abort.abort();
  });
});
