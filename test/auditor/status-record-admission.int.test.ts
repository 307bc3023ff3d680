// The record view of a drift whose user came from the admission webhook's fact, on an API server
// with no audit webhook (a managed cluster's case): the exempt admin's edit, named, with its
// source, in Debian's headless Chromium.
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { drifts, guarded, guardedByWebhook } from "./attribution-harness.js";
import { ref, startAuditor } from "./harness.js";
import { openBrowser, opsServer } from "./status-browser.js";

/** Where the reviewer finds the screenshot, besides the test's own directory. */
const SCREENSHOT_COPY = join(tmpdir(), "gitops-guard-status-record-admission.png");

describe("a record attributed from admission, in a browser", () => {
  it("shows who from the admission webhook's fact, the diff and the GitSync", async () => {
    const ns = await testNamespace("record-adm");
    await guarded(ns, ["web"]);
    const auditor = await startAuditor();
    await guardedByWebhook(ns, "web");
    const base = await opsServer(auditor.component.routes(), auditor.metrics);

    await clientAs("admin").mergePatch(
      ref(ns, "web"),
      { data: { LOG_LEVEL: "debug" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually("the drift's record, from admission", () =>
      drifts(auditor.records(ns), ns).some((r) => r.userSource === "admission"),
    );
    const [record] = drifts(auditor.records(ns), ns);
    console.log(`journal record: ${JSON.stringify(record)}`);

    const page = await openBrowser();
    await page.goto(`${base}/status/records/${String(record?.seq)}`);
    await page.getByRole("heading", { name: /: drift-detected$/ }).waitFor();
    const field = async (label: string): Promise<string> => {
      const header = page.getByRole("rowheader", { name: label, exact: true });
      return (await page.getByRole("row").filter({ has: header }).innerText()).replace(label, "");
    };
    expect(await field("Who")).toContain("envtest-admin");
    expect(await field("Source of who")).toContain("the admission webhook");
    expect(await field("Object")).toContain(`ConfigMap ${ns}/web`);
    expect(await field("GitSync")).toContain(`${ns}/app`);
    const diff = page.getByRole("table", { name: /^Field diff/ }).getByRole("row");
    expect(
      await diff.filter({ hasText: "/data/LOG_LEVEL" }).getByRole("cell").allInnerTexts(),
    ).toEqual(["/data/LOG_LEVEL", "replace", "info", "debug"]);
    const dir = mkdtempSync(join(tmpdir(), "gitops-guard-status-record-"));
    const screenshot = join(dir, "status-record-admission.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    copyFileSync(screenshot, SCREENSHOT_COPY);
    console.log(`record view screenshot: ${screenshot} (copied to ${SCREENSHOT_COPY})`);
  });
});
