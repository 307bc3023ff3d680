// What the status page's browser tests share: a GitSync as a good sync leaves it, the real ops
// app serving the auditor's routes on loopback, and Debian's Chromium driven by playwright-core.
import type { AddressInfo } from "node:net";
import type { Router } from "express";
import { chromium, type Page } from "playwright-core";
import { onTestFinished } from "vitest";
import { createOpsApp } from "../../src/http/ops.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";
import { createLogger } from "../../src/telemetry/log.js";
import type { Metrics } from "../../src/telemetry/metrics.js";
import { clientAs } from "../envtest/context.js";
import { sink } from "../helpers/log-sink.js";
import { gitSyncWithInventory } from "./harness.js";

/** A GitSync "app" as the reconciler leaves it after a good sync, with these objects. */
export async function syncedGitSync(ns: string, objects: readonly KubeObject[]): Promise<void> {
  await gitSyncWithInventory(ns, objects);
  // Its inventory must not stay in the scope of later auditors.
  onTestFinished(async () => {
    await clientAs("admin").delete({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GitSync",
      namespace: ns,
      name: "app",
    });
  });
  const now = new Date().toISOString();
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: "True",
    reason,
    message,
    lastTransitionTime: now,
  });
  await clientAs("admin").patchStatus(
    { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync", namespace: ns, name: "app" },
    {
      lastSyncTime: now,
      conditions: [
        condition("Ready", "Synced", `applied ${String(objects.length)} objects`),
        condition("Healthy", "Healthy", "every object is healthy"),
      ],
    },
  );
}

/** The real ops app (health, metrics, not-found handling) with the auditor's routes, and the
 * readers' check on, as in a cluster: the page itself stays open to whoever reaches the port. */
export async function opsServer(router: Router, metrics: Metrics): Promise<string> {
  const app = createOpsApp({
    metrics,
    readiness: () => ({ ready: true, checks: {} }),
    logger: createLogger({ level: "silent", destination: sink().stream }),
    routers: [router],
    auth: { kube: clientAs("admin"), clock: realClock() },
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  onTestFinished(() => {
    server.close();
  });
  return `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

/** A page in a headless Chromium of its own, closed when the test ends. */
export async function openBrowser(): Promise<Page> {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
    timeout: 30_000,
  });
  onTestFinished(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(10_000);
  return page;
}

/** The visible text of the row of `table` (by caption) that mentions `text`. */
export async function row(page: Page, table: string | RegExp, text: string): Promise<string> {
  const found = page.getByRole("table", { name: table }).getByRole("row").filter({ hasText: text });
  await found.first().waitFor();
  return found.first().innerText();
}
