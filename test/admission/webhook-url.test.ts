/**
 * --webhook-url / GITOPS_GUARD_WEBHOOK_URL: out of a cluster, on a machine the API server does
 * not share, the webhook is registered at that URL, and the serving certificate names its host
 * (the API server checks the certificate against the host it calls).
 */
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AdmissionOptions } from "../../src/admission/component.js";
import { webhookEndpoint, webhookHosts } from "../../src/admission/webhook-address.js";
import { registerWebhook } from "../../src/admission/registration.js";
import { createCa, issueServing } from "../../src/admission/tls/issue.js";
import { loadConfig, type Config } from "../../src/config.js";
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";

const VALIDITY = { now: Date.UTC(2026, 0, 1), validForMs: 3_600_000 };

function outOfCluster(webhookUrl: string): Config {
  return loadConfig({
    flags: { kubeconfig: "/home/me/.kube/config", webhookUrl },
    env: {},
    hostname: "laptop",
  });
}

/** The options main.ts gives the admission component for config. */
function optionsOf(config: Config): AdmissionOptions {
  return config.webhookUrl === undefined ? {} : { advertisedUrl: config.webhookUrl };
}

/** A KubeClient that only records what is applied. */
function recordingKube(applied: KubeObject[]): KubeClient {
  const apply = (obj: KubeObject): Promise<KubeObject> => {
    applied.push(obj);
    return Promise.resolve(obj);
  };
  return { apply } as unknown as KubeClient;
}

interface WebhookConfiguration {
  webhooks: { clientConfig: { url?: string; caBundle?: string } }[];
}

describe("the webhook's advertised URL", () => {
  it.each([
    { url: "https://guard.example.test:9443", host: "guard.example.test" },
    { url: "https://192.0.2.10:9443", host: "192.0.2.10" },
    { url: "https://[2001:db8::10]:9443", host: "2001:db8::10" },
  ])("puts $host in the serving certificate", ({ url, host }) => {
    const config = outOfCluster(url);
    expect(config.webhookUrl).toBe(url);
    const hosts = webhookHosts(config, optionsOf(config));
    expect(hosts).toContain(host);
    expect(hosts).toContain("127.0.0.1"); // loopback is kept
    const ca = createCa("test CA", VALIDITY);
    const cert = new X509Certificate(issueServing(ca, hosts, VALIDITY).cert);
    const covered =
      host.includes(":") || /^\d/.test(host) ? cert.checkIP(host) : cert.checkHost(host);
    expect(covered).toBe(host);
  });

  it("registers the webhook at the URL rather than at the listen address", async () => {
    const config = outOfCluster("https://guard.example.test:9443");
    const url = webhookEndpoint(optionsOf(config), "https://127.0.0.1:9443");
    const applied: KubeObject[] = [];
    const registration = { mode: "url", name: "gitops-guard", ownNamespace: "gg" } as const;
    await registerWebhook(recordingKube(applied), registration, url, "CA PEM");
    const [configuration] = applied as unknown as WebhookConfiguration[];
    expect(configuration?.webhooks.map((w) => w.clientConfig.url)).toEqual(
      configuration?.webhooks.map(() => "https://guard.example.test:9443/validate"),
    );
    expect(configuration?.webhooks.length).toBeGreaterThan(0);
  });

  it("leaves hosts and the registered address alone when no URL is set", () => {
    const config = loadConfig({ flags: { kubeconfig: "/k" }, env: {}, hostname: "laptop" });
    expect(webhookHosts(config, optionsOf(config))).toEqual([
      "gitops-guard-webhook",
      "gitops-guard-webhook.gitops-guard-system",
      "gitops-guard-webhook.gitops-guard-system.svc",
      "gitops-guard-webhook.gitops-guard-system.svc.cluster.local",
      "127.0.0.1",
      "localhost",
    ]);
    expect(webhookEndpoint(optionsOf(config), "https://127.0.0.1:9443")).toBe(
      "https://127.0.0.1:9443",
    );
  });
});
