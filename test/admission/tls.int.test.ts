/**
 * Self-managed TLS against the real API server: replicas share one Secret (whoever writes first
 * wins, the others take its certificate), and renewal rewrites it well before expiry, keeping
 * the old CA in the bundle. Time is a FakeClock; the API server does not care.
 */
import { describe, expect, it, onTestFinished } from "vitest";
import { registerWebhook } from "../../src/admission/registration.js";
import { certificateFacts, splitPem } from "../../src/admission/tls/issue.js";
import { SECRET_KEYS, secretTlsSource } from "../../src/admission/tls/secret-source.js";
import { webhookConfiguration } from "../../src/admission/webhook-config.js";
import { createLogger } from "../../src/telemetry/log.js";
import { clientAs } from "../envtest/context.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { SYSTEM_NS, WEBHOOK_USER, applyWebhookRbac } from "./harness.js";

const HOUR = 3_600_000;

describe("self-managed webhook TLS in a Secret", () => {
  it("is shared by racing replicas and renewed before expiry, old CA kept in the bundle", async () => {
    const admin = clientAs("admin");
    await applyWebhookRbac(admin);
    const kube = admin.impersonating({ user: WEBHOOK_USER });
    const name = `tls-${String(process.pid)}-${String(Date.now() % 100000)}`;
    onTestFinished(async () => {
      await admin.delete({ apiVersion: "v1", kind: "Secret", namespace: SYSTEM_NS, name });
    });
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const replica = (): ReturnType<typeof secretTlsSource> =>
      secretTlsSource({
        kube,
        namespace: SYSTEM_NS,
        name,
        hosts: ["gitops-guard-webhook.gitops-guard-system.svc", "127.0.0.1"],
        clock,
        logger: createLogger({ level: "silent" }),
        renewal: { caValidForMs: 30 * HOUR, servingValidForMs: 3 * HOUR, renewFraction: 1 / 3 },
      });
    const [a, b] = await Promise.all([replica().load(), replica().load()]);
    expect(b.cert).toBe(a.cert);
    expect(b.caBundle).toBe(a.caBundle);
    expect(certificateFacts(a.cert).hosts).toEqual([
      "gitops-guard-webhook.gitops-guard-system.svc",
      "127.0.0.1",
    ]);
    const secret = await admin.get({
      apiVersion: "v1",
      kind: "Secret",
      namespace: SYSTEM_NS,
      name,
    });
    expect(Object.keys(secret?.["data"] as object).sort()).toEqual(
      Object.values(SECRET_KEYS).sort(),
    );
    expect(secret?.["type"]).toBe("kubernetes.io/tls");

    await clock.advance(1.5 * HOUR);
    expect((await replica().load()).cert).toBe(a.cert);
    await clock.advance(HOUR);
    const renewed = await replica().load();
    expect(renewed.cert).not.toBe(a.cert);
    expect(renewed.caBundle).toBe(a.caBundle);

    await clock.advance(19 * HOUR);
    const rotated = await replica().load();
    const cas = splitPem(rotated.caBundle ?? "");
    expect(cas).toHaveLength(2);
    expect(cas[1]?.trim()).toBe(a.caBundle?.trim());
    expect((await replica().load()).cert).toBe(rotated.cert);
  });

  it("writes the caBundle into the configuration the chart installed, leaving the rest alone", async () => {
    const admin = clientAs("admin");
    await applyWebhookRbac(admin);
    const kube = admin.impersonating({ user: WEBHOOK_USER });
    const name = `gg-chart-${String(Date.now() % 100000)}`;
    const ref = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      name,
    };
    onTestFinished(async () => {
      await admin.delete(ref);
    });
    // As the chart installs it, but matching no namespace that exists: harmless to other tests.
    const installed = webhookConfiguration({
      name,
      ownNamespace: SYSTEM_NS,
      clientConfig: {
        service: {
          namespace: SYSTEM_NS,
          name: "gitops-guard-webhook",
          path: "/validate",
          port: 443,
        },
      },
      namespaces: ["no-such-namespace"],
    });
    await admin.apply(installed, { fieldManager: "helm" });
    const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    await registerWebhook(kube, { mode: "ca-bundle", name }, "https://unused", ca);
    const live = await admin.get(ref);
    const [hook] = live?.["webhooks"] as {
      clientConfig: Record<string, unknown>;
      rules: unknown;
    }[];
    expect(hook?.clientConfig).toEqual({
      service: { namespace: SYSTEM_NS, name: "gitops-guard-webhook", path: "/validate", port: 443 },
      caBundle: Buffer.from(ca).toString("base64"),
    });
    expect(hook?.rules).toEqual((installed["webhooks"] as { rules: unknown }[])[0]?.rules);
  });
});
