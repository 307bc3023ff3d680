import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCodes, GuardError } from "../../src/errors.js";
import { createOpsApp, type Readiness } from "../../src/http/ops.js";
import { startServer, type RunningServer } from "../../src/http/server.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics, type Metrics } from "../../src/telemetry/metrics.js";
import { sink } from "../helpers/log-sink.js";

interface Harness {
  readonly server: RunningServer;
  readonly metrics: Metrics;
  /** Parsed log lines written so far. */
  readonly logs: () => Record<string, unknown>[];
  setReadiness(next: () => Readiness): void;
}

let harness: Harness;

async function startOps(): Promise<Harness> {
  const logs = sink();
  const logger = createLogger({ level: "info", destination: logs.stream });
  const metrics = createMetrics({ version: "9.9.9", node: "v24.0.0" });
  let readiness = (): Readiness => ({ ready: true, checks: { informers: true } });
  // Who may read is test/http/ops-auth.int.test.ts's subject; this file tests what is served.
  const app = createOpsApp({
    metrics,
    logger,
    readiness: () => readiness(),
    auth: "unauthenticated",
  });
  const server = await startServer({ app, listen: "127.0.0.1:0", logger });
  return {
    server,
    metrics,
    logs: () => logs.lines(),
    setReadiness: (next) => (readiness = next),
  };
}

beforeEach(async () => {
  harness = await startOps();
});

afterEach(async () => {
  await harness.server.close();
});

const get = (path: string): Promise<Response> => fetch(`${harness.server.url}${path}`);

/** Paths of the request-log lines. */
const loggedPaths = (): unknown[] =>
  harness
    .logs()
    .filter((l) => l.msg === "request" || l.msg === "request failed")
    .map((l) => l.path);

describe("ops server", () => {
  it("answers /healthz with 200 ok", async () => {
    const res = await get("/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe("ok");
  });

  it("answers /readyz with 200 and the checks when ready", async () => {
    const res = await get("/readyz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, failing: [], checks: { informers: true } });
  });

  it("answers /readyz with 503 naming the failing checks", async () => {
    harness.setReadiness(() => ({
      ready: false,
      checks: { "informer/secrets": true, "informer/gitsyncs": false, leader: false },
    }));
    const res = await get("/readyz");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      ready: false,
      failing: ["informer/gitsyncs", "leader"],
      checks: { "informer/secrets": true, "informer/gitsyncs": false, leader: false },
    });
  });

  it("serves the registry's exposition with its content type", async () => {
    const res = await get("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(harness.metrics.contentType);
    expect(await res.text()).toContain('gitops_guard_build_info{version="9.9.9",node="v24.0.0"} 1');
  });

  it("counts requests by route pattern and status code", async () => {
    await (await get("/healthz")).text();
    await (await get("/healthz")).text();
    await (await get("/no/such/path")).text();
    const text = await (await get("/metrics")).text();
    expect(text).toContain(
      'gitops_guard_http_requests_total{server="ops",route="/healthz",code="200"} 2',
    );
    expect(text).toContain(
      'gitops_guard_http_requests_total{server="ops",route="unmatched",code="404"} 1',
    );
  });

  it("logs requests except the probes and the scrapes (/healthz, /readyz, /metrics)", async () => {
    for (const path of ["/healthz", "/metrics", "/readyz", "/nope"]) await (await get(path)).text();
    expect(loggedPaths()).toEqual(["/nope"]);
    expect(harness.logs().find((l) => l.path === "/nope")).toMatchObject({
      server: "ops",
      method: "GET",
      statusCode: 404,
    });
  });

  it("answers an unknown path with a JSON 404", async () => {
    const res = await get("/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ code: "GG_HTTP_404", message: "no route for GET /nope" });
  });

  it("turns a failing readiness function into a JSON 500, logged with the error", async () => {
    harness.setReadiness(() => {
      throw new Error("informer map corrupted");
    });
    const res = await get("/readyz");
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: "GG_INTERNAL", message: "internal error" });
    const logged = harness.logs().find((l) => l.msg === "request error");
    expect(logged).toMatchObject({ path: "/readyz", err: { message: "informer map corrupted" } });
  });

  it("passes a GuardError's code and message through", async () => {
    harness.setReadiness(() => {
      throw new GuardError(ErrorCodes.LEADER_LOST, "lease lost");
    });
    const res = await get("/readyz");
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ code: "GG_LEADER_LOST", message: "lease lost" });
  });
});
