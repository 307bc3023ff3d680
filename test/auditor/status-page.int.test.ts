// The status page as a person sees it: a real drift (attributed by the API server's audit
// webhook) and a real break-glass against the envtest API server, the auditor's ops routes on
// loopback, and Debian's Chromium driven headless by playwright-core.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import {
  ACTIVE_KEY,
  BITNAMI_KEY_SECRET_LABEL,
  keySecret,
} from "../../src/crypto/sealing/key-secret.js";
import { createKubeClient, FIELD_MANAGER } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";
import {
  auditedApiServer,
  breakGlassEdit,
  configMap,
  ref,
  startAuditor,
  userKubeconfig,
} from "./harness.js";
import { openBrowser, opsServer, row, syncedGitSync } from "./status-browser.js";

const SCREENSHOT = join(tmpdir(), "gitops-guard-status-page.png");
const SYSTEM_NS = "gitops-guard-system";
// Stands in for key material: it must never reach the page.
const KEY_MARKER = "status-page-key-material-3b9f";

/** A key Secret labelled as the secrets controller labels its keys; placeholder material. */
async function keySecretFor(ns: string): Promise<string> {
  const name = `sealing-key-${ns}`;
  const admin = clientAs("admin");
  await admin.create(
    keySecret(
      { privateKeyPem: `${KEY_MARKER}-key`, certificatePem: `${KEY_MARKER}-cert` },
      { namespace: SYSTEM_NS, name, labels: { [BITNAMI_KEY_SECRET_LABEL]: ACTIVE_KEY } },
    ),
  );
  onTestFinished(async () => {
    await admin.delete({ apiVersion: "v1", kind: "Secret", namespace: SYSTEM_NS, name });
  });
  return name;
}

describe("status page in a browser", () => {
  it("shows the GitSync, the drift (who, what, when, healed), break-glass and key age", async () => {
    const ns = await testNamespace("status");
    const reconciler = clientAs("reconciler");
    for (const name of ["web", "api"])
      await reconciler.apply(configMap(ns, name), { fieldManager: FIELD_MANAGER });
    await syncedGitSync(ns, [configMap(ns, "web"), configMap(ns, "api")]);
    const keyName = await keySecretFor(ns);
    const ca = makeTestCa();
    const auditor = await startAuditor({
      auditWebhook: { listen: "127.0.0.1:0", tls: makeServingCert(ca, ["127.0.0.1"]) },
    });
    const audited = await auditedApiServer(auditor, ca, `status-${ns}`);
    const base = await opsServer(auditor.component.routes(), auditor.metrics);

    // An out-of-band edit through the audited API server, by envtest-admin-2 (system:masters).
    const admin2 = createKubeClient({ kubeconfig: audited.kubeconfig });
    const web = await admin2.get<KubeObject>(ref(ns, "web"));
    await admin2.replace({ ...web!, data: { LOG_LEVEL: "debug" } });
    // bob breaks glass on the other object for 30 minutes. The auditor counts every live
    // break-glass it watches, in any namespace: the object must not outlive this test.
    onTestFinished(async () => {
      await clientAs("admin").delete(ref(ns, "api"));
    });
    const bob = createKubeClient({
      kubeconfig: userKubeconfig(audited.url, "bob", ["incident-responders"], `status-${ns}`),
    });
    await breakGlassEdit(bob, ns, "api");
    await eventually("the drift and the break-glass in the journal", () => {
      const records = auditor.records(ns);
      return (
        records.some(
          (r) => r.type === "drift-detected" && r.user?.username === "envtest-admin-2",
        ) && records.some((r) => r.type === "break-glass" && r.user?.username === "bob")
      );
    });

    const page = await openBrowser();
    const res = await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/status`);
    expect(res?.headers()["content-security-policy"]).toBe(
      "default-src 'none'; style-src 'unsafe-inline'",
    );
    await page.getByRole("heading", { name: "gitops-guard status" }).waitFor();
    const drift = await row(page, /Drift timeline/, "envtest-admin-2");
    expect(drift).toContain(`ConfigMap ${ns}/web`);
    expect(drift).toContain("/data/LOG_LEVEL");
    expect(drift).toContain("not healed");

    // Git puts the object back; a reload shows the heal.
    await reconciler.apply(configMap(ns, "web"), { fieldManager: FIELD_MANAGER });
    await eventually("the heal in the journal", () =>
      auditor.records(ns).some((r) => r.type === "drift-healed" && r.object?.name === "web"),
    );
    await page.reload();
    const healed = await row(page, /Drift timeline/, "envtest-admin-2");
    expect(healed).toMatch(/healed after \d+(\.\d)?(s|m)/);
    expect(healed).toMatch(/just now| ago/);
    expect(healed).toContain(`${ns}/app`);

    const glassDrift = await row(page, /Drift timeline/, "INC-4711");
    expect(glassDrift).toContain("bob");
    expect(glassDrift).toContain("break-glass");
    const glass = await row(page, "Active break-glass", `ConfigMap ${ns}/api`);
    expect(glass).toContain("INC-4711 database failover");
    expect(glass).toContain("bob");
    expect(glass).toMatch(/(29m \d+s|30m) left/);

    const sync = await row(page, "GitSyncs", `${ns}/app`);
    expect(sync).toContain("https://git.example.com/team/app.git");
    expect(sync).toContain("main@0123456789ab");
    expect(sync).toMatch(/Ready\s+Synced/);
    expect(sync).toContain("Healthy");
    const key = await row(page, /Sealing keys/, keyName);
    expect(key).toContain("less than a day");

    const html = await page.content();
    expect(html).not.toContain(KEY_MARKER);
    expect(html).not.toContain(Buffer.from(`${KEY_MARKER}-key`).toString("base64"));
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`status page screenshot: ${SCREENSHOT}`);
  });
});
