import type { AddressInfo } from "node:net";
import express, { type Router } from "express";
import { afterEach, describe, expect, it } from "vitest";
import { BreakGlassBook } from "../../src/auditor/break-glass.js";
import type { JournalEntry } from "../../src/auditor/journal/record.js";
import { JournalStore } from "../../src/auditor/journal/store.js";
import { cachedFor, JOURNAL_WINDOW, type StatusSources } from "../../src/auditor/status/collect.js";
import { duration } from "../../src/auditor/status/format.js";
import { JournalWindow } from "../../src/auditor/status/journal-window.js";
import { driftTimeline, gitSyncRow, type StatusModel } from "../../src/auditor/status/model.js";
import { renderStatusPage } from "../../src/auditor/status/page.js";
import { statusRouter } from "../../src/auditor/status/route.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { FakeClock } from "../helpers/fake-clock.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOW = T0 + 10 * 60_000;
const cm = { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "web" };

function model(overrides: Partial<StatusModel> = {}): StatusModel {
  return {
    gitSyncs: [],
    drifts: [],
    journal: { scanned: 0, headSeq: 0 },
    breakGlass: [],
    keyNamespace: "gitops-guard-system",
    keys: { rows: [] },
    ...overrides,
  };
}

/** The visible text of a table row that contains `marker`, tags stripped. */
function rowText(html: string, marker: string): string {
  const row = html.split("<tr>").find((r) => r.includes(marker)) ?? "";
  return row.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ");
}

describe("status page rendering", () => {
  it("shows empty states for every section", () => {
    const html = renderStatusPage(model(), NOW);
    expect(html).toContain("No GitSyncs in the cluster.");
    expect(html).toContain("No drift recorded.");
    expect(html).toContain("No active break-glass.");
    expect(html).toContain("No sealing keys found.");
    expect(html).toContain('<meta http-equiv="refresh" content="10">');
    expect(html).not.toMatch(/<script/i);
    for (const caption of ["GitSyncs", "Drift timeline", "Active break-glass", "Sealing keys"])
      expect(html).toMatch(new RegExp(`<caption>${caption}`));
  });

  it("escapes names, reasons, users and field paths", () => {
    const evil = `<script>alert("x")</script>`;
    const html = renderStatusPage(
      model({
        gitSyncs: [
          { namespace: "ns", name: evil, url: `https://x/"><img src=x>`, suspended: false },
        ],
        drifts: [
          {
            seq: 1,
            type: "break-glass",
            atMs: T0,
            object: { ...cm, name: evil },
            user: { username: `<b>eve</b>`, groups: ["<g>"] },
            fields: [`/data/<k>`],
            reason: `INC-1 "><svg onload=x>`,
          },
        ],
      }),
      NOW,
    );
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<svg");
    expect(html).not.toContain("<b>eve");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain("/data/&lt;k&gt;");
  });

  it("shows who, what and when of a drift, healed after 4s or not healed", () => {
    const html = renderStatusPage(
      model({
        drifts: [
          {
            seq: 3,
            type: "drift-detected",
            atMs: T0 + 60_000,
            object: { ...cm, name: "api" },
            fields: ["/data/LOG_LEVEL"],
          },
          {
            seq: 1,
            type: "drift-detected",
            atMs: T0,
            object: cm,
            user: { username: "alice", groups: ["devs", "system:authenticated"] },
            fields: ["/data/LOG_LEVEL", "/spec/replicas"],
            gitSync: { namespace: "shop", name: "app" },
            revision: `main@sha1:${"ab12".repeat(10)}`,
            healedAtMs: T0 + 4_000,
          },
        ],
      }),
      NOW,
    );
    const healed = rowText(html, "alice");
    expect(healed).toContain("10m ago");
    expect(healed).toContain("ConfigMap shop/web");
    expect(healed).toContain("groups: devs, system:authenticated");
    expect(healed).toContain("/data/LOG_LEVEL /spec/replicas");
    expect(healed).toContain("shop/app main@ab12ab12ab12");
    expect(healed).toContain("healed after 4s");
    expect(html).toContain(`<time datetime="2026-01-01T12:00:00.000Z"`);
    const open = rowText(html, "ConfigMap shop/api");
    expect(open).toContain("unknown (unattributed)");
    expect(open).toContain("not healed");
  });

  it("shows break-glass with time left, and key ages in days", () => {
    const html = renderStatusPage(
      model({
        breakGlass: [
          {
            object: cm,
            reason: "INC-42 failover",
            untilMs: NOW + 29 * 60_000 + 30_000,
            user: "bob",
          },
          { object: { ...cm, name: "odd" }, reason: "INC-7", untilMs: Number.POSITIVE_INFINITY },
        ],
        keys: {
          rows: [
            {
              namespace: "gg",
              name: "sealing-key-new",
              createdMs: NOW - 3 * 3_600_000,
              labels: ["bitnami", "gitops-guard"],
              newest: true,
            },
            {
              namespace: "gg",
              name: "sealing-key-old",
              createdMs: NOW - 45 * 86_400_000 - 5000,
              labels: ["gitops-guard"],
              newest: false,
            },
          ],
        },
      }),
      NOW,
    );
    const glass = rowText(html, "INC-42");
    expect(glass).toContain("bob");
    expect(glass).toContain("29m 30s left");
    expect(glass).toContain("in 29m 30s");
    expect(rowText(html, "INC-7")).toContain("until the annotation is removed");
    expect(rowText(html, "sealing-key-old")).toContain("45 days");
    expect(rowText(html, "sealing-key-new")).toMatch(/newest.*less than a day/);
    expect(html).toContain("newest sealing key 3h old");
  });

  it("shows a sub-second heal in tenths, and a moment ago as just now", () => {
    const html = renderStatusPage(
      model({
        drifts: [
          {
            seq: 1,
            type: "drift-detected",
            atMs: NOW - 400,
            object: cm,
            fields: [""],
            healedAtMs: NOW,
          },
        ],
      }),
      NOW,
    );
    const row = rowText(html, "ConfigMap shop/web");
    expect(row).toContain("healed after 0.4s");
    expect(row).toContain("just now");
    expect(row).toContain("whole object deleted");
  });

  it("says so when the key Secrets cannot be listed", () => {
    const html = renderStatusPage(model({ keys: { error: "secrets is forbidden" } }), NOW);
    expect(html).toContain("The key Secrets cannot be listed: secrets is forbidden");
  });

  it("formats durations with two units at most", () => {
    expect([0, 4_000, 125_000, 120_000, 3_725_000, 86_400_000 + 7_200_000].map(duration)).toEqual([
      "0s",
      "4s",
      "2m 5s",
      "2m",
      "1h 2m",
      "1d 2h",
    ]);
  });
});

describe("status model", () => {
  it("pairs drifts with the heal of the same object that follows them", async () => {
    const clock = new FakeClock(T0);
    const store = JournalStore.open(":memory:", clock);
    const append = async (entry: JournalEntry, afterMs: number): Promise<void> => {
      await clock.advance(afterMs);
      store.append(entry);
    };
    const change = [{ path: "/data/a", op: "replace" as const, from: "1", to: "2" }];
    await append({ type: "drift-detected", object: cm, diff: change }, 0);
    await append({ type: "break-glass", object: cm, diff: change, reason: "INC-1" }, 1000);
    await append({ type: "drift-detected", object: { ...cm, name: "other" }, diff: change }, 1000);
    await append({ type: "drift-healed", object: cm }, 2000);
    await append({ type: "admission-denied", object: cm }, 1000);
    const rows = driftTimeline(store.list(), 10);
    store.close();
    expect(
      rows.map((r) => [r.seq, r.type, r.healedAtMs === undefined ? "open" : r.healedAtMs - T0]),
    ).toEqual([
      [3, "drift-detected", "open"],
      [2, "break-glass", 4000],
      [1, "drift-detected", 4000],
    ]);
    expect(driftTimeline([], 10)).toEqual([]);
  });

  it("reads a GitSync's source, revision and conditions", () => {
    const obj: KubeObject = {
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GitSync",
      metadata: { namespace: "shop", name: "app" },
      spec: { url: "https://git/x.git", path: "deploy", ref: { tag: "v1.2" }, suspend: true },
      status: {
        lastAppliedRevision: "v1.2@sha1:0123",
        lastSyncTime: "2026-01-01T11:59:00Z",
        conditions: [{ type: "Ready", status: "False", reason: "ApplyFailed", message: "boom" }],
      },
    };
    expect(gitSyncRow(obj)).toEqual({
      namespace: "shop",
      name: "app",
      url: "https://git/x.git",
      path: "deploy",
      ref: "tag v1.2",
      revision: "v1.2@sha1:0123",
      ready: { status: "False", reason: "ApplyFailed", message: "boom" },
      suspended: true,
      lastSyncMs: T0 - 60_000,
    });
  });

  it("keeps a listing for its ttl, and not a failure", async () => {
    const clock = new FakeClock(T0);
    let calls = 0;
    let fail = true;
    const list = cachedFor(10_000, clock, () => {
      calls++;
      return fail ? Promise.reject(new Error("down")) : Promise.resolve(calls);
    });
    await expect(list()).rejects.toThrow("down");
    fail = false;
    expect(await list()).toBe(2);
    await clock.advance(9_999);
    expect(await list()).toBe(2);
    await clock.advance(1);
    expect(await list()).toBe(3);
  });
});

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(router: Router): Promise<string> {
  const app = express();
  app.use(router);
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

describe("status route", () => {
  it("answers 503 off the leader, then a read-only page with a strict CSP", async () => {
    const clock = new FakeClock(T0);
    const leader: { sources?: StatusSources } = {};
    const base = await serve(statusRouter({ sources: () => leader.sources, clock }));
    const before = await fetch(`${base}/status`);
    expect(before.status).toBe(503);
    expect(await before.text()).toContain("This page is served by the leader.");

    const journal = JournalStore.open(":memory:", clock);
    journal.append({ type: "drift-detected", object: cm, diff: [] });
    leader.sources = {
      journal: new JournalWindow(journal, JOURNAL_WINDOW),
      breakGlass: new BreakGlassBook(),
      gitSyncs: () => [],
      keySecrets: () => Promise.reject(new Error("secrets is forbidden")),
      keyNamespace: "gitops-guard-system",
    };
    const res = await fetch(`${base}/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe(
      "default-src 'none'; style-src 'unsafe-inline'",
    );
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    expect(rowText(html, "ConfigMap shop/web")).toContain("not healed");
    expect(html).toContain("cannot be listed: secrets is forbidden");

    expect((await fetch(`${base}/status`, { method: "HEAD" })).status).toBe(200);
    const post = await fetch(`${base}/status`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const root = await fetch(`${base}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/status");
    journal.close();
  });
});

describe("JournalWindow", () => {
  it("reads only the records appended since the last view, and keeps the newest size", () => {
    const journal = JournalStore.open(":memory:", new FakeClock(T0));
    const lists: (number | undefined)[] = [];
    const list = journal.list.bind(journal);
    journal.list = (query) => {
      lists.push(query?.afterSeq);
      return list(query);
    };
    const append = (n: number): void => {
      for (let i = 0; i < n; i++) journal.append({ type: "drift-detected", object: cm, diff: [] });
    };
    const window = new JournalWindow(journal, 5);
    append(3);
    expect(window.read().records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(window.read().records.map((r) => r.seq)).toEqual([1, 2, 3]);
    append(4);
    expect(window.read().records.map((r) => r.seq)).toEqual([3, 4, 5, 6, 7]);
    expect(window.read().head.seq).toBe(7);
    // The second and fourth views found nothing new and read nothing.
    expect(lists).toEqual([0, 3]);
    journal.close();
  });

  it("reads any record by seq, and finds a drift's heal past pages of other objects' heals", () => {
    const journal = JournalStore.open(":memory:", new FakeClock(T0));
    const drift = journal.append({ type: "drift-detected", object: cm, diff: [] });
    const otherGroup = { ...cm, apiVersion: "example.com/v1" };
    for (let i = 0; i < 250; i++) journal.append({ type: "drift-healed", object: otherGroup });
    const heal = journal.append({ type: "drift-healed", object: cm });
    const window = new JournalWindow(journal, 5);
    expect(window.record(drift.seq)).toEqual(drift);
    expect([0, heal.seq + 1].map((seq) => window.record(seq))).toEqual([undefined, undefined]);
    expect(window.healOf(drift)?.seq).toBe(heal.seq);
    expect(window.healOf(heal)).toBeUndefined();
    journal.close();
  });
});
