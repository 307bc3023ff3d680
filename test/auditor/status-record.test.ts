// The status page's record view (/status/records/<seq>): rendering (escaping, shortening, a
// Secret's digests and nothing else, who and from where, the heal) and the route (404, 400,
// 503, 405, a heal found beyond the window, the timeline's links).
import type { AddressInfo } from "node:net";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { BreakGlassBook } from "../../src/auditor/break-glass.js";
import {
  secretValueDigest,
  type JournalEntry,
  type JournalRecord,
} from "../../src/auditor/journal/record.js";
import { JournalStore } from "../../src/auditor/journal/store.js";
import type { StatusSources } from "../../src/auditor/status/collect.js";
import { JournalWindow } from "../../src/auditor/status/journal-window.js";
import { MAX_VALUE_CHARS } from "../../src/auditor/status/record-diff.js";
import { renderRecordPage } from "../../src/auditor/status/record-page.js";
import type { RecordView } from "../../src/auditor/status/record-view.js";
import { statusRouter } from "../../src/auditor/status/route.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { FakeClock } from "../helpers/fake-clock.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const NOW = T0 + 10 * 60_000;
const cm = { apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "web" };
const CSP = "default-src 'none'; style-src 'unsafe-inline'";

function rec(fields: Partial<JournalRecord> = {}): JournalRecord {
  return {
    seq: 7,
    time: new Date(T0).toISOString(),
    type: "drift-detected",
    object: cm,
    prevHash: "a".repeat(64),
    hash: "b".repeat(64),
    ...fields,
  };
}

const TEXT: Record<string, string> = { lt: "<", gt: ">", quot: '"', "#39": "'", amp: "&" };

/** The visible text of the record table's row labelled `label`, tags stripped. */
function field(html: string, label: string): string {
  const th = `<th scope="row">${label}</th>`;
  const row = html.split("<tr>").find((r) => r.includes(th)) ?? "";
  return row
    .replace(th, "")
    .replace(/<\/?(div|td|tr)\b[^>]*>/g, " ")
    .replace(/<[^>]+>/g, "")
    .replace(/&(lt|gt|quot|#39|amp);/g, (_, e: string) => TEXT[e] ?? "")
    .replace(/\s+/g, " ")
    .trim();
}

/** The Before and After cells of the diff table, as HTML. */
function valueCells(html: string): string[] {
  const diff = html.slice(html.indexOf("<caption>Field diff"));
  const body = diff.slice(diff.indexOf("<tbody>"), diff.indexOf("</tbody>"));
  return body
    .split("<tr>")
    .slice(1)
    .flatMap((row) => [...row.matchAll(/<td>(.*?)<\/td>/g)].slice(2).map((m) => m[1] ?? ""));
}

describe("record view rendering", () => {
  it("shows who, from where, the diff, the GitSync and when it was healed", () => {
    const view: RecordView = {
      record: rec({
        user: { username: "alice", groups: ["devs", "system:authenticated"] },
        userSource: "audit-webhook",
        fieldManagers: ["kubectl-edit"],
        diff: [
          { path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "debug" },
          { path: "/data/NEW", op: "add", to: "" },
        ],
        gitSync: { namespace: "shop", name: "app" },
        revision: `main@sha1:${"ab12".repeat(10)}`,
        message: "out-of-band change by alice",
      }),
      heal: { seq: 9, atMs: T0 + 4_000 },
      gitSync: {
        namespace: "shop",
        name: "app",
        url: "https://git/x.git",
        path: "deploy/prod",
        ref: "branch main",
        suspended: false,
      },
    };
    const html = renderRecordPage(view, NOW);
    expect(html).toContain("<h1>Journal record #7: drift-detected</h1>");
    expect(field(html, "Time")).toBe("2026-01-01T12:00:00.000Z (10m ago)");
    expect(field(html, "Object")).toBe("ConfigMap shop/web v1");
    expect(field(html, "Who")).toBe("alice groups: devs, system:authenticated");
    expect(field(html, "Source of who")).toBe("the API server's audit webhook audit-webhook");
    expect(field(html, "Field managers")).toBe("kubectl-edit");
    expect(field(html, "GitSync")).toBe("shop/app");
    expect(field(html, "Revision")).toBe("main@ab12ab12ab12");
    expect(field(html, "Git source")).toContain("https://git/x.git path deploy/prod, branch main");
    expect(field(html, "Healed")).toMatch(/^healed after 4s by record #9 2026-01-01T12:00:04/);
    expect(html).toContain(`<a href="9">record #9</a>`);
    expect(html).toContain(`<a href="../../status">`);
    expect(field(html, "Break-glass reason")).toBe("");
    expect(valueCells(html)).toEqual([
      `<code class="value">info</code>`,
      `<code class="value">debug</code>`,
      `<span class="muted">absent</span>`,
      `<span class="muted">empty string</span>`,
    ]);
    // A healed record has nothing more to show: it does not reload itself.
    expect(html).not.toContain('http-equiv="refresh"');
  });

  it("says the source is not known when only field managers are, and not healed", () => {
    const html = renderRecordPage(
      {
        record: rec({
          type: "break-glass",
          userSource: "managedFields",
          fieldManagers: ["kubectl-edit", "<m>"],
          reason: "INC-1 failover",
        }),
        heal: "open",
      },
      NOW,
    );
    expect(field(html, "Who")).toBe("unknown (unattributed)");
    expect(field(html, "Source of who")).toBe("not known: only field managers managedFields");
    expect(field(html, "Field managers")).toBe("kubectl-edit, <m>");
    expect(field(html, "Break-glass reason")).toBe("INC-1 failover");
    expect(field(html, "GitSync")).toBe("not from a GitSync");
    expect(field(html, "Healed")).toBe("not healed");
    expect(html).toContain("No field changes recorded.");
    expect(html).toContain('<meta http-equiv="refresh" content="10">');
  });

  it("escapes every value, path, name and reason: a <script> value renders as text", () => {
    const evil = `<script>alert("x")</script>`;
    const html = renderRecordPage(
      {
        record: rec({
          object: { ...cm, name: evil },
          user: { username: "<b>eve</b>", groups: ["<g>"] },
          userSource: "admission",
          diff: [{ path: "/data/<k>", op: "replace", from: { html: evil }, to: evil }],
          reason: `"><svg onload=x>`,
          message: "<img src=x>",
          gitSync: { namespace: "shop", name: "<a>" },
          revision: "<i>rev</i>",
          event: { namespace: "shop", name: "<e>", uid: "<u>" },
        }),
      },
      NOW,
    );
    for (const tag of ["<script", "<svg", "<img", "<b>", "<g>", "<i>", "<e>", "<u>", "<k>"])
      expect(html).not.toContain(tag);
    expect(valueCells(html)).toEqual([
      `<code class="value">{&quot;html&quot;:&quot;&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;&quot;}</code>`,
      `<code class="value">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</code>`,
    ]);
    expect(html).toContain("<code>/data/&lt;k&gt;</code>");
    expect(field(html, "Git source")).toBe("the GitSync is gone");
  });

  it("shortens long values with an ellipsis and shows other values as compact JSON", () => {
    const long = "x".repeat(500);
    const emoji = "😀".repeat(300);
    const html = renderRecordPage(
      {
        record: rec({
          diff: [
            { path: "/data/a", op: "replace", from: long, to: emoji },
            { path: "/spec/replicas", op: "replace", from: 2, to: null },
            { path: "/spec/args", op: "add", to: ["--v", 4, { a: true }] },
            { path: "", op: "remove", from: { metadata: { name: "web" } } },
          ],
        }),
      },
      NOW,
    );
    const cells = valueCells(html);
    expect(cells[0]).toBe(
      `<code class="value">${"x".repeat(MAX_VALUE_CHARS)}…</code><div class="msg">shortened: 500 characters in all</div>`,
    );
    expect(cells[1]).toBe(
      `<code class="value">${"😀".repeat(MAX_VALUE_CHARS)}…</code><div class="msg">shortened: 300 characters in all</div>`,
    );
    expect(cells.slice(2)).toEqual([
      `<code class="value">2</code>`,
      `<code class="value">null</code>`,
      `<span class="muted">absent</span>`,
      `<code class="value">[&quot;--v&quot;,4,{&quot;a&quot;:true}]</code>`,
      `<code class="value">{&quot;metadata&quot;:{&quot;name&quot;:&quot;web&quot;}}</code>`,
      `<span class="muted">absent</span>`,
    ]);
    expect(html).toContain("<strong>(whole object)</strong>");
  });

  it("shows a Secret's digests and nothing else, even from a record that holds more", () => {
    const before = secretValueDigest("old-password-31f");
    const after = secretValueDigest("new-password-8c2");
    const journal = JournalStore.open(":memory:", new FakeClock(T0));
    const stored = journal.append({
      type: "drift-detected",
      object: { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db" },
      diff: [
        { path: "/data/password", op: "replace", from: before, to: after },
        { path: "/data/token", op: "remove", from: secretValueDigest("t") },
      ],
    });
    journal.close();
    const html = renderRecordPage({ record: stored, heal: "open" }, NOW);
    expect(valueCells(html)).toEqual([
      `<code class="value">${before}</code>`,
      `<code class="value">${after}</code>`,
      `<code class="value">${secretValueDigest("t")}</code>`,
      `<span class="muted">absent</span>`,
    ]);
    expect(html).toContain("a Secret: values are SHA-256 digests");

    // The store refuses such a record; the page does not rely on that.
    const leaky = renderRecordPage(
      {
        record: rec({
          object: { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db" },
          diff: [
            { path: "/data/password", op: "replace", from: before, to: "plain-pw-77" },
            { path: "/data", op: "add", to: { password: "plain-pw-78" } },
          ],
        }),
      },
      NOW,
    );
    expect(leaky).not.toContain("plain-pw");
    expect(valueCells(leaky)).toEqual([
      `<code class="value">${before}</code>`,
      `<strong class="bad">withheld: not a digest</strong>`,
      `<span class="muted">absent</span>`,
      `<strong class="bad">withheld: not a digest</strong>`,
    ]);
  });
});

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(leader: { sources?: StatusSources }, clock: FakeClock): Promise<string> {
  const app = express();
  app.use(statusRouter({ sources: () => leader.sources, clock }));
  const server = app.listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

const gitSync: KubeObject = {
  apiVersion: "gitops-guard.io/v1alpha1",
  kind: "GitSync",
  metadata: { namespace: "shop", name: "app" },
  spec: { url: "https://git/x.git", path: "deploy/prod" },
};

/** A journal where web drifts (1), other drifts (2), other heals (3), a web of another
 * namespace (4) and of another API group (5) heal, web heals (7, after a denial to 6) and web
 * drifts again (8). The window holds only the newest 2. */
async function journalOfDrifts(
  clock: FakeClock,
): Promise<{ sources: StatusSources; close(): void }> {
  const journal = JournalStore.open(":memory:", clock);
  const other = { ...cm, name: "other" };
  const change = [{ path: "/data/LOG_LEVEL", op: "replace" as const, from: "info", to: "debug" }];
  const origin = { gitSync: { namespace: "shop", name: "app" }, revision: "main@sha1:0123" };
  const entries: JournalEntry[] = [
    { type: "drift-detected", object: cm, diff: change, userSource: "managedFields", ...origin },
    { type: "drift-detected", object: other, diff: change },
    { type: "drift-healed", object: other },
    { type: "drift-healed", object: { ...cm, namespace: "elsewhere" } },
    { type: "drift-healed", object: { ...cm, apiVersion: "example.com/v1" } },
    { type: "admission-denied", object: cm, user: { username: "alice", groups: [] } },
    { type: "drift-healed", object: cm },
    { type: "drift-detected", object: cm, diff: change },
  ];
  for (const entry of entries) {
    await clock.advance(1000);
    journal.append(entry);
  }
  const sources: StatusSources = {
    journal: new JournalWindow(journal, 2),
    breakGlass: new BreakGlassBook(),
    gitSyncs: () => [gitSync],
    keySecrets: () => Promise.resolve([]),
    keyNamespace: "gitops-guard-system",
  };
  return {
    sources,
    close: () => {
      journal.close();
    },
  };
}

describe("record view route", () => {
  it("serves a record with its heal, 404 for an unknown seq, 400 for a malformed one", async () => {
    const clock = new FakeClock(T0);
    const leader: { sources?: StatusSources } = {};
    const base = await serve(leader, clock);
    const standby = await fetch(`${base}/status/records/1`);
    expect(standby.status).toBe(503);
    expect(standby.headers.get("content-security-policy")).toBe(CSP);
    expect(await standby.text()).toContain("This page is served by the leader.");

    const journal = await journalOfDrifts(clock);
    leader.sources = journal.sources;
    const res = await fetch(`${base}/status/records/1`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe(CSP);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const html = await res.text();
    // Record 1 is older than the window; its heal is record 7, not another object's (3, 4, 5).
    expect(field(html, "Healed")).toMatch(/^healed after 6s by record #7 /);
    expect(field(html, "Source of who")).toBe("not known: only field managers managedFields");
    expect(field(html, "Git source")).toContain("https://git/x.git path deploy/prod");
    expect(field(await (await fetch(`${base}/status/records/8`)).text(), "Healed")).toBe(
      "not healed",
    );
    // A heal, and a denial, have no heal of their own.
    expect(field(await (await fetch(`${base}/status/records/7`)).text(), "Healed")).toBe("");
    expect(field(await (await fetch(`${base}/status/records/6`)).text(), "Who")).toContain("alice");

    for (const seq of ["0", "9", "999999999999999"]) {
      const missing = await fetch(`${base}/status/records/${seq}`);
      expect(missing.status, seq).toBe(404);
      expect(missing.headers.get("content-security-policy")).toBe(CSP);
      expect(await missing.text()).toContain(
        `The journal holds no record #${String(Number(seq))}.`,
      );
    }
    for (const bad of [
      "abc",
      "1e3",
      "-1",
      "+1",
      "1.0",
      "0x10",
      "1234567890123456",
      "%3Cscript%3E",
    ]) {
      const malformed = await fetch(`${base}/status/records/${bad}`);
      expect(malformed.status, bad).toBe(400);
      expect(malformed.headers.get("content-security-policy")).toBe(CSP);
      const text = await malformed.text();
      expect(text).toContain("Not a journal record number");
      expect(text).not.toContain("<script");
    }

    expect((await fetch(`${base}/status/records/1`, { method: "HEAD" })).status).toBe(200);
    const post = await fetch(`${base}/status/records/1`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const slash = await fetch(`${base}/status/records/1/`, { redirect: "manual" });
    expect(slash.status).toBe(301);
    expect(new URL(slash.headers.get("location") ?? "", `${base}/status/records/1/`).href).toBe(
      `${base}/status/records/1`,
    );
    journal.close();
  });

  it("links each timeline row to its record view, relatively", async () => {
    const clock = new FakeClock(T0);
    const journal = await journalOfDrifts(clock);
    const base = await serve({ sources: journal.sources }, clock);
    const page = await fetch(`${base}/status`);
    const hrefs = [...(await page.text()).matchAll(/<a href="(status\/records\/\d+)">/g)];
    expect(hrefs.map((m) => m[1])).toEqual(["status/records/8"]);
    const record = await fetch(new URL(hrefs[0]?.[1] ?? "", `${base}/status`));
    expect(record.status).toBe(200);
    const html = await record.text();
    expect(html).toContain("<h1>Journal record #8: drift-detected</h1>");
    const back = /<a href="([^"]+)">← status<\/a>/.exec(html)?.[1] ?? "";
    expect(new URL(back, record.url).href).toBe(`${base}/status`);
    const slash = await fetch(`${base}/status/`, { redirect: "manual" });
    expect(slash.status).toBe(301);
    expect(new URL(slash.headers.get("location") ?? "", `${base}/status/`).href).toBe(
      `${base}/status`,
    );
    journal.close();
  });
});
