// A journal record's detail view as a person reaches it: real drift of a ConfigMap and a Secret
// through an API server whose audit webhook names the user, the status page in Debian's headless
// Chromium, the timeline's link followed to the record, the heal's link followed and back.
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { secretValueDigest } from "../../src/auditor/journal/record.js";
import { createKubeClient, FIELD_MANAGER } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";
import { auditedApiServer, configMap, ref, startAuditor } from "./harness.js";
import { openBrowser, opsServer, syncedGitSync } from "./status-browser.js";

/** Where the reviewer finds the screenshot, besides the test's own directory. */
const SCREENSHOT_COPY = join(tmpdir(), "gitops-guard-status-record.png");
// A value that would run if it were not escaped; the page must show it as text.
const EVIL = `debug <script>document.title="pwned"</script>`;
const PASSWORD_OLD = "pw-from-git-6c1e";
const PASSWORD_NEW = "pw-typed-by-hand-0d93";

function secret(ns: string, password: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db-creds", namespace: ns },
    stringData: { password },
  };
}

/** The visible text of the record table's row labelled `label`. */
async function field(page: Page, label: string): Promise<string> {
  const header = page.getByRole("rowheader", { name: label, exact: true });
  return (await page.getByRole("row").filter({ has: header }).innerText()).replace(label, "");
}

/** The diff table's row of `path`, as its four cells' text. */
async function diffRow(page: Page, path: string): Promise<string[]> {
  const found = page
    .getByRole("table", { name: /^Field diff/ })
    .getByRole("row")
    .filter({ hasText: path });
  return found.getByRole("cell").allInnerTexts();
}

/** From /status, the record view of the drift row that mentions `text`. */
async function openFromTimeline(page: Page, base: string, text: string): Promise<number> {
  await page.goto(`${base}/status`);
  const drift = page
    .getByRole("table", { name: /Drift timeline/ })
    .getByRole("row")
    .filter({ hasText: text });
  await drift.getByRole("link", { name: /^record #\d+$/ }).click();
  await page.waitForURL(/\/status\/records\/\d+$/);
  return Number(/(\d+)$/.exec(page.url())?.[1]);
}

describe("a journal record's view in a browser", () => {
  it("follows the timeline to the record: diff, who, source, GitSync, heal", async () => {
    const ns = await testNamespace("record");
    const reconciler = clientAs("reconciler");
    await reconciler.apply(configMap(ns, "web"), { fieldManager: FIELD_MANAGER });
    await reconciler.apply(secret(ns, PASSWORD_OLD), { fieldManager: FIELD_MANAGER });
    await syncedGitSync(ns, [configMap(ns, "web"), secret(ns, PASSWORD_OLD)]);
    const ca = makeTestCa();
    const auditor = await startAuditor({
      auditWebhook: { listen: "127.0.0.1:0", tls: makeServingCert(ca, ["127.0.0.1"]) },
    });
    const audited = await auditedApiServer(auditor, ca, `record-${ns}`);
    const base = await opsServer(auditor.component.routes(), auditor.metrics);

    // Out-of-band edits through the audited API server, by envtest-admin-2 (system:masters).
    const admin2 = createKubeClient({ kubeconfig: audited.kubeconfig });
    const web = await admin2.get<KubeObject>(ref(ns, "web"));
    await admin2.replace({ ...web!, data: { LOG_LEVEL: EVIL } });
    const db = await admin2.get<KubeObject>({ ...ref(ns, "db-creds"), kind: "Secret" });
    await admin2.replace({
      ...db!,
      data: { password: Buffer.from(PASSWORD_NEW).toString("base64") },
    });
    await eventually("both drifts in the journal, attributed", () => {
      const drifts = auditor.records(ns).filter((r) => r.type === "drift-detected");
      return drifts.length === 2 && drifts.every((r) => r.user?.username === "envtest-admin-2");
    });

    const page = await openBrowser();
    const seq = await openFromTimeline(page, base, `ConfigMap ${ns}/web`);
    await page
      .getByRole("heading", { name: `Journal record #${String(seq)}: drift-detected` })
      .waitFor();
    expect(await diffRow(page, "/data/LOG_LEVEL")).toEqual([
      "/data/LOG_LEVEL",
      "replace",
      "info",
      EVIL,
    ]);
    // Shown as text: no script element, and the one the value holds never ran.
    expect(await page.locator("script").count()).toBe(0);
    expect(await page.title()).toBe(`gitops-guard journal record #${String(seq)}`);
    const who = await field(page, "Who");
    expect(who).toContain("envtest-admin-2");
    expect(who).toMatch(/groups: .*system:masters/);
    expect(await field(page, "Source of who")).toContain("the API server's audit webhook");
    expect(await field(page, "Object")).toContain(`ConfigMap ${ns}/web`);
    expect(await field(page, "GitSync")).toContain(`${ns}/app`);
    expect(await field(page, "Revision")).toContain("main@0123456789ab");
    expect(await field(page, "Git source")).toContain("https://git.example.com/team/app.git");
    expect(await field(page, "Git source")).toContain("path deploy/prod");
    expect(await field(page, "Healed")).toContain("not healed");

    // Git puts the object back; a reload shows the heal, linked.
    await reconciler.apply(configMap(ns, "web"), { fieldManager: FIELD_MANAGER });
    await eventually("the heal in the journal", () =>
      auditor.records().some((r) => r.type === "drift-healed" && r.object?.namespace === ns),
    );
    await page.reload();
    expect(await field(page, "Healed")).toMatch(/healed after \d+(\.\d)?(s|m)\b.* by record #\d+/);
    const recordUrl = page.url();
    await page.getByRole("link", { name: /^record #\d+$/ }).click();
    await page.getByRole("heading", { name: /: drift-healed$/ }).waitFor();
    expect(await field(page, "Object")).toContain(`ConfigMap ${ns}/web`);
    await page.goBack();
    expect(page.url()).toBe(recordUrl);
    const dir = mkdtempSync(join(tmpdir(), "gitops-guard-status-record-"));
    const screenshot = join(dir, "status-record.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    copyFileSync(screenshot, SCREENSHOT_COPY);
    console.log(`record view screenshot: ${screenshot} (copied to ${SCREENSHOT_COPY})`);

    // The Secret's record: digests only, never the values, in any form.
    await openFromTimeline(page, base, `Secret ${ns}/db-creds`);
    expect(await diffRow(page, "/data/password")).toEqual([
      "/data/password",
      "replace",
      secretValueDigest(PASSWORD_OLD),
      secretValueDigest(PASSWORD_NEW),
    ]);
    expect(await field(page, "Who")).toContain("envtest-admin-2");
    const html = await page.content();
    for (const value of [PASSWORD_OLD, PASSWORD_NEW]) {
      expect(html).not.toContain(value);
      expect(html).not.toContain(Buffer.from(value).toString("base64"));
    }
  });
});
