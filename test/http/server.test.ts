import { request as httpsRequest } from "node:https";
import express from "express";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes, GuardError } from "../../src/errors.js";
import { startServer, type RunningServer } from "../../src/http/server.js";
import { createLogger } from "../../src/telemetry/log.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { makeServingCert, makeTestCa, type TestCa, type TestCert } from "../helpers/tls.js";

const logger = createLogger({ level: "silent" });
const running: RunningServer[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(
  app: express.Express,
  extra: { listen?: string; tls?: TestCert; clock?: FakeClock; shutdownTimeoutMs?: number } = {},
): Promise<RunningServer> {
  const server = await startServer({
    app,
    logger,
    listen: extra.listen ?? "127.0.0.1:0",
    ...extra,
  });
  running.push(server);
  return server;
}

function helloApp(): express.Express {
  const app = express();
  app.get("/", (_req, res) => {
    res.send("hello");
  });
  return app;
}

/** An app whose GET /slow waits for release(); entered resolves when a request arrives. */
function slowApp(): { app: express.Express; entered: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  let enter = (): void => undefined;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const app = express();
  app.get("/slow", async (_req, res) => {
    enter();
    await released;
    res.send("done");
  });
  return { app, entered, release };
}

function httpsGet(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ...(ca === undefined ? {} : { ca }), agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err: unknown) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("startServer over HTTP", () => {
  it("serves the app on a free port and reports a dialable url", async () => {
    const server = await start(helloApp());
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("hello");
  });

  it("turns a wildcard bind into a loopback url", async () => {
    const server = await start(helloApp(), { listen: "0.0.0.0:0" });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect((await fetch(server.url)).status).toBe(200);
  });

  it("keeps connections alive for 90 s, like controller-runtime's webhook server", async () => {
    const server = await start(helloApp());
    const res = await fetch(server.url);
    expect(res.headers.get("keep-alive")).toBe("timeout=90");
  });

  it("fails with HTTP_LISTEN_FAILED naming the address when the port is taken", async () => {
    const first = await start(helloApp());
    const listen = `127.0.0.1:${first.port}`;
    const err = await rejection(start(helloApp(), { listen }));
    expect(err).toBeInstanceOf(GuardError);
    expect((err as GuardError).code).toBe(ErrorCodes.HTTP_LISTEN_FAILED);
    expect((err as GuardError).message).toContain(listen);
    expect((err as GuardError).message).toContain("EADDRINUSE");
  });

  it("fails with HTTP_LISTEN_FAILED for an address that is not host:port", async () => {
    const err = await rejection(start(helloApp(), { listen: "everywhere" }));
    expect((err as GuardError).code).toBe(ErrorCodes.HTTP_LISTEN_FAILED);
    expect((err as GuardError).message).toContain('"everywhere"');
  });
});

describe("startServer over HTTPS", () => {
  let ca: TestCa;
  let serving: TestCert;

  beforeAll(() => {
    ca = makeTestCa();
    serving = makeServingCert(ca, ["127.0.0.1", "localhost"]);
  });

  it("serves with the given certificate to a client trusting the CA", async () => {
    const server = await start(helloApp(), { tls: serving });
    expect(server.url).toBe(`https://127.0.0.1:${server.port}`);
    expect(await httpsGet(server.url, ca.cert)).toEqual({ status: 200, body: "hello" });
  });

  it("is refused by a client that does not trust the CA", async () => {
    const server = await start(helloApp(), { tls: serving });
    const err = await rejection(httpsGet(server.url));
    expect((err as NodeJS.ErrnoException).code).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  });

  it("fails with TLS_INVALID for a garbage certificate", async () => {
    const err = await rejection(start(helloApp(), { tls: { cert: "nope", key: "nope" } }));
    expect((err as GuardError).code).toBe(ErrorCodes.TLS_INVALID);
  });

  it("fails with TLS_INVALID when the key does not match the certificate", async () => {
    const other = makeServingCert(ca, ["127.0.0.1"]);
    const err = await rejection(start(helloApp(), { tls: { cert: serving.cert, key: other.key } }));
    expect((err as GuardError).code).toBe(ErrorCodes.TLS_INVALID);
  });
});

describe("RunningServer.close", () => {
  it("closes idle keep-alive connections at once instead of waiting 90 s", async () => {
    const server = await start(helloApp(), { shutdownTimeoutMs: 60_000 });
    await (await fetch(server.url)).text(); // leaves a pooled keep-alive connection
    const started = performance.now();
    await server.close();
    expect(performance.now() - started).toBeLessThan(2_000);
    await expect(fetch(server.url)).rejects.toThrow();
  });

  it("stops accepting but lets an in-flight request finish, then resolves", async () => {
    const { app, entered, release } = slowApp();
    const server = await start(app, { shutdownTimeoutMs: 60_000 });
    const response = fetch(`${server.url}/slow`);
    await entered;
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await expect(fetch(server.url)).rejects.toThrow();
    expect(closed).toBe(false);
    release();
    const res = await response;
    expect(await res.text()).toBe("done");
    expect(res.headers.get("connection")).toBe("close");
    await closing;
    expect(closed).toBe(true);
  });

  it("cuts connections still busy when the shutdown bound passes", async () => {
    const clock = new FakeClock();
    const { app, entered } = slowApp(); // never released
    const server = await start(app, { clock, shutdownTimeoutMs: 5_000 });
    // Settled into a value at once: the rejection arrives while the test awaits other things.
    const outcome = fetch(`${server.url}/slow`).then(
      () => "answered",
      (err: unknown) => err,
    );
    await entered;
    const closing = server.close();
    expect(server.close()).toBe(closing);
    await clock.advance(4_999);
    expect(clock.pending()).toBe(1);
    await clock.advance(1);
    await closing;
    expect(await outcome).toBeInstanceOf(TypeError); // fetch failed: other side closed
    expect(clock.pending()).toBe(0);
  });
});
