import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { alertFromRecord, type Alert } from "../../src/auditor/alerts/alert.js";
import { AlertDispatcher } from "../../src/auditor/alerts/dispatcher.js";
import {
  signPayload,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifySignature,
} from "../../src/auditor/alerts/signature.js";
import { SinkQueue, type AlertOutcome } from "../../src/auditor/alerts/sink-queue.js";
import { createSink } from "../../src/auditor/alerts/sinks.js";
import { secretValueDigest, type JournalRecord } from "../../src/auditor/journal/record.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { sink as logSink } from "../helpers/log-sink.js";

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface LocalSink {
  readonly url: string;
  readonly received: Received[];
  /** Status for the next requests: the first items are used once each, then 200. */
  readonly statuses: number[];
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise((resolve) =>
          s.close(() => {
            resolve(undefined);
          }),
        ),
    ),
  );
});

async function localSink(): Promise<LocalSink> {
  const received: Received[] = [];
  const statuses: number[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      received.push({ path: req.url ?? "", headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end("{}");
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${String(port)}`, received, statuses };
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    // A condition wait's poll period, not a wait for nothing: real sockets answer when they do.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const SECRET = "p4ssw0rd-never-shown";

function record(overrides: Partial<JournalRecord> = {}): JournalRecord {
  return {
    seq: 7,
    time: "2026-03-01T10:00:00.000Z",
    prevHash: "0".repeat(64),
    hash: "1".repeat(64),
    type: "drift-detected",
    object: { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db" },
    user: { username: "alice", groups: ["developers"] },
    diff: [
      {
        path: "/data/password",
        op: "replace",
        from: secretValueDigest("old"),
        to: secretValueDigest(SECRET),
      },
    ],
    gitSync: { namespace: "shop", name: "app" },
    revision: "main@sha1:abc",
    ...overrides,
  };
}

function alert(n = 1): Alert {
  const a = alertFromRecord(
    record({
      seq: n,
      diff: [{ path: `/data/k${String(n)}`, op: "add", to: secretValueDigest("x") }],
    }),
    { gitSync: { namespace: "shop", name: "app" }, path: "deploy/prod" },
  );
  if (a === undefined) throw new Error("no alert");
  return a;
}

describe("alerts from journal records", () => {
  it("name the object, the user, the changed fields and the Git path, never a value", () => {
    const a = alertFromRecord(record(), {
      gitSync: { namespace: "shop", name: "app" },
      path: "deploy/prod",
    });
    expect(a).toMatchObject({
      title: "Out-of-band change to Secret shop/db",
      object: "Secret shop/db",
      user: "alice",
      fields: ["/data/password"],
      gitSync: "shop/app",
      gitPath: "deploy/prod",
      severity: "warning",
    });
    expect(JSON.stringify(a)).not.toContain(SECRET);
    expect(JSON.stringify(a)).not.toContain(secretValueDigest(SECRET));
  });

  it("call unattributed drift critical, and skip record types that are not alerted", () => {
    const { user: _user, ...unattributed } = record();
    expect(alertFromRecord(unattributed)).toMatchObject({
      user: "unattributed",
      severity: "critical",
      title: "Unattributed drift on Secret shop/db",
    });
    expect(alertFromRecord(record({ type: "key-rotated" }))).toBeUndefined();
  });
});

describe("HMAC-SHA256 signature", () => {
  it("covers the timestamp and the body, and bounds the timestamp's age", () => {
    const signature = signPayload('{"a":1}', "k", 1000);
    const base = { body: '{"a":1}', key: "k", signature, timestampSec: 1000, nowSec: 1010 };
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(base)).toBe(true);
    expect(verifySignature({ ...base, body: '{"a":2}' })).toBe(false);
    expect(verifySignature({ ...base, timestampSec: 1001 })).toBe(false);
    expect(verifySignature({ ...base, key: "other" })).toBe(false);
    expect(verifySignature({ ...base, nowSec: 2000 })).toBe(false);
  });
});

describe("sinks against a local HTTP server", () => {
  it("signs the generic webhook so the receiver can check it", async () => {
    const server = await localSink();
    const clock = new FakeClock(Date.parse("2026-03-01T10:00:00Z"));
    const hook = createSink({
      type: "webhook",
      id: "p#0:webhook",
      url: server.url,
      hmacKey: "hmac-key-1",
      clock,
    });
    await hook.deliver(alert());
    const got = server.received[0];
    const ts = Number(got?.headers[TIMESTAMP_HEADER]);
    expect(ts).toBe(Math.floor(clock.now() / 1000));
    const ok = verifySignature({
      body: got?.body ?? "",
      key: "hmac-key-1",
      signature: String(got?.headers[SIGNATURE_HEADER]),
      timestampSec: ts,
      nowSec: ts,
    });
    expect(ok).toBe(true);
    expect(JSON.parse(got?.body ?? "")).toMatchObject({
      source: "gitops-guard",
      alerts: [{ user: "alice" }],
    });
  });

  it("posts Alertmanager v2 alerts and Slack messages in their own formats", async () => {
    const server = await localSink();
    const clock = realClock();
    await createSink({ type: "alertmanager", id: "am", url: server.url, clock }).deliver(alert());
    await createSink({
      type: "slack",
      id: "slack",
      url: `${server.url}/services/T/B/X`,
      clock,
    }).deliver(alert());
    expect(server.received.map((r) => r.path)).toEqual(["/api/v2/alerts", "/services/T/B/X"]);
    const [am] = JSON.parse(server.received[0]?.body ?? "[]") as [
      { labels: Record<string, string>; annotations: Record<string, string> },
    ];
    expect(am.labels).toMatchObject({
      alertname: "GitOpsGuardDrift",
      kind: "Secret",
      name: "db",
      user: "alice",
    });
    expect(am.annotations["git_path"]).toBe("deploy/prod");
    const slack = JSON.parse(server.received[1]?.body ?? "{}") as { text: string };
    expect(slack.text).toContain("by alice");
    expect(slack.text).toContain("fields: /data/k1");
  });

  it("fails on a non-2xx answer without quoting the URL", async () => {
    const server = await localSink();
    server.statuses.push(500);
    const url = `${server.url}/services/SECRET-TOKEN`;
    const slack = createSink({ type: "slack", id: "p#0:slack", url, clock: realClock() });
    const error = await slack.deliver(alert()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(String(error)).toMatch(/p#0:slack answered HTTP 500/);
    expect(String(error)).not.toContain("SECRET-TOKEN");
  });
});

describe("SinkQueue", () => {
  function queue(
    url: string,
    clock = realClock(),
    extra: Partial<ConstructorParameters<typeof SinkQueue>[0]> = {},
  ) {
    const outcomes: AlertOutcome[] = [];
    const q = new SinkQueue({
      sink: createSink({ type: "webhook", id: "w", url, hmacKey: "k", clock }),
      clock,
      retry: { initialMs: 10, maxMs: 40 },
      onOutcome: (o) => outcomes.push(o),
      ...extra,
    });
    const abort = new AbortController();
    const loop = q.run(abort.signal);
    return {
      q,
      outcomes,
      stop: async () => {
        abort.abort();
        await loop;
      },
    };
  }

  it("sends a repeated alert once within the dedup window", async () => {
    const server = await localSink();
    const { q, outcomes, stop } = queue(server.url);
    q.push(alert(1));
    q.push(alert(1));
    q.push(alert(2));
    await until("two deliveries", () => server.received.length === 2);
    await stop();
    expect(outcomes.filter((o) => o === "deduplicated")).toHaveLength(1);
  });

  it("retries with backoff while the sink fails, and loses nothing", async () => {
    const server = await localSink();
    server.statuses.push(503, 500, 502);
    const { q, outcomes, stop } = queue(server.url);
    q.push(alert(1));
    q.push(alert(2));
    await until("both delivered", () => outcomes.filter((o) => o === "sent").length === 2);
    await stop();
    expect(outcomes.filter((o) => o === "failed")).toHaveLength(3);
    const seqs = server.received
      .slice(-2)
      .map((r) => (JSON.parse(r.body) as { alerts: Alert[] }).alerts[0]?.seq);
    expect(seqs).toEqual([1, 2]);
  });

  it("rate-limits: alerts over the budget wait for a token", async () => {
    const server = await localSink();
    const clock = new FakeClock();
    const { q, stop } = queue(server.url, clock, { perMinute: 2 });
    for (const n of [1, 2, 3]) q.push(alert(n));
    await until("the burst", () => server.received.length === 2);
    // The loop is one at a time and the sink's only clock use is now(): a timer on the fake clock
    // is the token wait for the third, so it cannot have been sent before advance().
    await until("the third waiting for a token", () => clock.pending() === 1);
    expect(q.length).toBe(1);
    expect(server.received).toHaveLength(2);
    await clock.advance(30_000);
    await until("the third after a token refilled", () => server.received.length === 3);
    await stop();
  });

  it("holds a bounded queue while the sink is down and counts what it drops", async () => {
    const server = await localSink();
    const clock = new FakeClock();
    server.statuses.push(500);
    const { q, outcomes, stop } = queue(server.url, clock, { capacity: 2 });
    for (const n of [1, 2, 3, 4]) q.push(alert(n));
    await until("the first failure", () => outcomes.includes("failed"));
    expect(outcomes.filter((o) => o === "dropped")).toHaveLength(2);
    expect(q.length).toBe(2);
    await clock.advance(1000);
    await until("the rest delivered", () => q.length === 0);
    await stop();
    const seqs = server.received.map(
      (r) => (JSON.parse(r.body) as { alerts: Alert[] }).alerts[0]?.seq,
    );
    expect(seqs.slice(-2)).toEqual([3, 4]);
  });
});

describe("AlertDispatcher", () => {
  it("fans out to every sink and reports failures by sink id only", async () => {
    const [a, b] = [await localSink(), await localSink()];
    b.statuses.push(500);
    const log = logSink();
    const clock = realClock();
    const dispatcher = new AlertDispatcher({
      clock,
      logger: createLogger({ level: "info", destination: log.stream }),
      queue: { retry: { initialMs: 10, maxMs: 20 } },
    });
    const slackUrl = `${b.url}/services/T000/B000/SECRETSLACKTOKEN`;
    dispatcher.configure([
      createSink({ type: "webhook", id: "p#0:webhook", url: a.url, hmacKey: "k", clock }),
      createSink({ type: "slack", id: "p#1:slack", url: slackUrl, clock }),
    ]);
    dispatcher.notify(alert());
    await until("both sinks", () => a.received.length === 1 && b.received.length === 2);
    await dispatcher.stop();
    expect(log.raw()).toContain("p#1:slack");
    expect(log.raw()).not.toContain("SECRETSLACKTOKEN");
  });

  it("keeps a sink's queue when its settings change, and delivers with the new ones", async () => {
    const [before, after] = [await localSink(), await localSink()];
    before.statuses.push(500, 500, 500, 500, 500, 500, 500, 500);
    const clock = realClock();
    const dispatcher = new AlertDispatcher({
      clock,
      logger: createLogger({ level: "silent" }),
      queue: { retry: { initialMs: 20, maxMs: 40 } },
    });
    const id = "p#0:webhook";
    dispatcher.configure([
      createSink({ type: "webhook", id, url: before.url, hmacKey: "k1", clock }),
    ]);
    dispatcher.notify(alert());
    await until("a failed attempt on the old URL", () => before.received.length >= 1);
    // The URL and key rotated in the Secret: same sink id, new settings, the alert still queued.
    dispatcher.configure([
      createSink({ type: "webhook", id, url: after.url, hmacKey: "k2", clock }),
    ]);
    await until("the queued alert on the new URL", () => after.received.length === 1);
    await dispatcher.stop();
    const got = after.received[0];
    expect(got).toBeDefined();
    const timestampSec = Number(got?.headers[TIMESTAMP_HEADER.toLowerCase()] ?? "0");
    const signature = String(got?.headers[SIGNATURE_HEADER.toLowerCase()] ?? "");
    const check = { body: got?.body ?? "", signature, timestampSec, nowSec: timestampSec };
    expect(verifySignature({ ...check, key: "k2" })).toBe(true);
    expect(verifySignature({ ...check, key: "k1" })).toBe(false);
  });
});
