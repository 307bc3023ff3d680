/**
 * The in-cluster arrangement, for real: the controller pod's own service account (a real
 * TokenRequest token, as a pod would mount) with the chart's RBAC and the chart's settings,
 * takes the Lease itself and runs the secrets component impersonating the chart's secrets
 * account, which makes its key, unseals a SealedSecret and reports status. The reconciler and
 * auditor run cluster-wide, so only their identity is exercised here (can-i covers the rest).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCodes, isGuardError } from "../../src/errors.js";
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { createServices, runComponents } from "../../src/main.js";
import { createSecretsComponent } from "../../src/secrets/component.js";
import { clientAs, envtest, eventually, testNamespace } from "../envtest/context.js";
import { kubeconfigYaml } from "../envtest/kubeconfig.js";
import { sink } from "../helpers/log-sink.js";
import { decoded, sealedSecret } from "../secrets/harness.js";
import { installRbac, kubectlOk } from "./cluster.js";
import { find, render } from "./helm.js";
import { configOf } from "./pod-config.js";

const admin = clientAs("admin");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A kubeconfig holding a real token of the controller's service account. */
async function controllerKubeconfig(ns: string, account: string): Promise<string> {
  const token = (await kubectlOk(["create", "token", account, "-n", ns, "--duration=1h"])).trim();
  const dir = mkdtempSync(join(tmpdir(), "gg-chart-"));
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, "controller.kubeconfig");
  const info = envtest();
  writeFileSync(
    file,
    kubeconfigYaml({ name: account, server: info.apiServerUrl, caCert: info.caCert, token }),
  );
  return file;
}

/** The HTTP status a list of Secrets in "default" gets as this client (200 when allowed). */
async function listSecretsStatus(kube: KubeClient): Promise<number> {
  try {
    await kube.list({ apiVersion: "v1", kind: "Secret" }, { namespace: "default" });
    return 200;
  } catch (err: unknown) {
    if (!isGuardError(err, ErrorCodes.KUBE_REQUEST_FAILED)) throw err;
    return err.details["status"] as number;
  }
}

describe("the controller pod's identity", () => {
  it("holds the Lease as itself and unseals as the secrets account", async () => {
    const ns = await testNamespace("ctl");
    await installRbac(ns, ns);
    const deployment = find(
      render({ release: ns, namespace: ns }),
      "Deployment",
      `${ns}-gitops-guard-controller`,
    );
    const kubeconfig = await controllerKubeconfig(ns, `${ns}-gitops-guard-controller`);
    const config = await configOf(deployment, [
      "--kubeconfig",
      kubeconfig,
      "--ops-listen",
      "127.0.0.1:0",
    ]);
    const services = createServices(config, { logDestination: sink().stream });
    // As src/main.ts kubeFor does for each component when impersonate is on.
    const as = (account: string): KubeClient =>
      services.kube.impersonating({ user: `system:serviceaccount:${ns}:${account}` });
    const component = createSecretsComponent(
      { ...services, config, logger: services.logger, kube: as(config.serviceAccounts.secrets) },
      { watchNamespace: ns, keyBits: 2048 },
    );
    const abort = new AbortController();
    let opsUrl = "";
    const running = runComponents(config, services, [component], {
      signal: abort.signal,
      onListening: (url) => (opsUrl = url),
    });
    cleanups.push(async () => {
      abort.abort();
      await running;
    });
    await eventually(
      "the controller to be ready",
      async () => opsUrl !== "" && (await fetch(`${opsUrl}/readyz`)).ok,
    );

    const lease = await admin.get({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      namespace: ns,
      name: config.leaderElection.leaseName,
    });
    expect(lease?.["spec"]).toMatchObject({ holderIdentity: "pod-0" });

    // Ready says a key is loaded; the route reads the keyring on its own path (a replica that
    // does not lead reads the key Secrets), so wait for the certificate itself.
    let cert = "";
    await eventually("the sealing certificate", async () => {
      const res = await fetch(`${opsUrl}/v1/cert.pem`);
      cert = await res.text();
      return res.status === 200 && cert.includes("BEGIN CERTIFICATE");
    });
    await admin.create(sealedSecret(cert, { namespace: ns, name: "db" }, { password: "chart-pw" }));
    let secret: KubeObject | undefined;
    await eventually("the Secret to be unsealed", async () => {
      secret = await admin.get({ apiVersion: "v1", kind: "Secret", namespace: ns, name: "db" });
      return secret !== undefined;
    });
    expect(decoded(secret)).toEqual({ password: "chart-pw" });

    // The other component account answers too; the webhook's is not the controller's to use.
    await as(config.serviceAccounts.reconciler).list(
      { apiVersion: "gitops-guard.io/v1alpha1", kind: "GitSync" },
      { namespace: ns },
    );
    expect(await listSecretsStatus(as(config.serviceAccounts.webhook))).toBe(403);
    expect(await listSecretsStatus(services.kube)).toBe(403);
  });
});
