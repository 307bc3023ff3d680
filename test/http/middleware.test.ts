import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorBody, errorHandler, jsonBody } from "../../src/http/middleware.js";
import { startServer, type RunningServer } from "../../src/http/server.js";
import { createLogger } from "../../src/telemetry/log.js";

const logger = createLogger({ level: "silent" });
let server: RunningServer;

beforeAll(async () => {
  const app = express();
  app.post("/echo", jsonBody(), (req, res) => {
    res.json({ received: req.body as unknown });
  });
  app.post("/small", jsonBody("1kb"), (_req, res) => {
    res.json({ ok: true });
  });
  app.use(errorHandler(logger));
  server = await startServer({ app, listen: "127.0.0.1:0", logger });
});

afterAll(async () => {
  await server.close();
});

function post(path: string, body: string): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
}

describe("jsonBody", () => {
  it("parses a JSON body", async () => {
    const res = await post("/echo", JSON.stringify({ kind: "AdmissionReview" }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: { kind: "AdmissionReview" } });
  });

  it("accepts a body just under the 2 MB default", async () => {
    const res = await post("/echo", JSON.stringify({ pad: "x".repeat(2 * 1024 * 1024 - 100) }));
    expect(res.status).toBe(200);
  });

  it("answers a body over the limit with a JSON 413", async () => {
    const res = await post("/echo", JSON.stringify({ pad: "x".repeat(2 * 1024 * 1024) }));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ code: "GG_HTTP_413", message: "request entity too large" });
  });

  it("honours a smaller limit", async () => {
    const res = await post("/small", JSON.stringify({ pad: "x".repeat(2048) }));
    expect(res.status).toBe(413);
  });

  it("answers malformed JSON with a JSON 400", async () => {
    const res = await post("/echo", "{not json");
    expect(res.status).toBe(400);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("GG_HTTP_400");
    expect(body.message).not.toBe("");
  });
});

describe("errorBody", () => {
  it("hides the message of an unknown error and keeps client errors' status", () => {
    expect(errorBody(new Error("db password is hunter2"))).toEqual({
      status: 500,
      body: { code: "GG_INTERNAL", message: "internal error" },
    });
    expect(errorBody("a string")).toEqual({
      status: 500,
      body: { code: "GG_INTERNAL", message: "internal error" },
    });
    const tooLarge = Object.assign(new Error("too big"), { status: 413 });
    expect(errorBody(tooLarge)).toEqual({
      status: 413,
      body: { code: "GG_HTTP_413", message: "too big" },
    });
    // A 5xx status on a foreign error is not trusted to carry a safe message.
    const upstream = Object.assign(new Error("upstream said hunter2"), { status: 502 });
    expect(errorBody(upstream).body.message).toBe("internal error");
  });
});
