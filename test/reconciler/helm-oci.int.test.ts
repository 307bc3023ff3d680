/**
 * spec.helm.chart from an OCI registry (oci://): the reference registry (distribution) behind
 * TLS with a private CA, charts pushed with the real `helm push`, pulled by the reconciler with
 * the real helm: an exact version and a range that moves on when a newer tag is pushed, a
 * corrupted blob refused by its digest, a wrong password and a bearer token for another
 * repository refused without the secret in the message, the cache and the timeout of a pull.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { ErrorCodes, isGuardError } from "../../src/errors.js";
import { pullFromOci } from "../../src/reconciler/helm/oci.js";
import type { HelmSettings } from "../../src/reconciler/helm/template.js";
import { clientAs, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import { configMapData, INFO_TEMPLATE } from "./helpers/helm-tests.js";
import {
  condition,
  putGitSync,
  readGitSync,
  requestSync,
  startReconciler,
  waitForApplied,
  waitForReadyReason,
  type Harness,
} from "./helpers/harness.js";
import { ensureHelm } from "./helpers/kustomize.js";
import { startOciRegistry, type OciRegistry } from "./helpers/oci-registry.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startReconciler({ kustomizeTimeoutMs: 20_000 });
});
afterAll(async () => {
  await harness.stop();
});

async function credentials(ns: string, data: Record<string, string>): Promise<void> {
  await clientAs("admin").apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "charts", namespace: ns },
    stringData: data,
  });
}

function basicAuth(registry: OciRegistry, password = registry.password): Record<string, string> {
  return { username: registry.username, password, "ca.crt": registry.ca.cert };
}

async function gitSyncFor(ns: string, name: string, chart: Record<string, unknown>) {
  const git = await GitRepo.create();
  const commit = await git.commit("values", { "env/prod.yaml": "greeting: from-git\n" });
  await putGitSync(ns, name, {
    url: git.url,
    ref: { branch: "main" },
    helm: { chart: { ...chart, secretRef: { name: "charts" } }, valueFiles: ["env/prod.yaml"] },
  });
  return commit;
}

function sha256File(path: string): string {
  return `sha256:${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
}

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "gg-oci-pull-"));
  onTestFinished(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

describe("a chart from an OCI registry", () => {
  it("pulls an exact version and a range, moves on with a new tag, refuses a corrupted blob", async () => {
    const ns = await testNamespace("helm-oci");
    const registry = await startOciRegistry();
    await registry.publish("app", "1.0.0", INFO_TEMPLATE);
    await registry.publish("app", "1.1.0", INFO_TEMPLATE);
    const pushed = await registry.publish("app", "2.0.0", INFO_TEMPLATE);
    await credentials(ns, basicAuth(registry));
    const exact = { repoURL: registry.url, name: "app", version: "2.0.0" };
    const pinned = await gitSyncFor(ns, "pinned", exact);
    const ranged = await gitSyncFor(ns, "ranged", { ...exact, version: "^1.0" });

    const status = await waitForApplied(ns, "pinned", pinned);
    expect(await configMapData(ns, "pinned-info")).toEqual({
      chart: "2.0.0",
      greeting: "from-git",
    });
    // The layer is the archive helm pushed, byte for byte.
    expect(status.status?.helm).toMatchObject({ version: "2.0.0", digest: sha256File(pushed) });
    await waitForApplied(ns, "ranged", ranged);
    expect(await configMapData(ns, "ranged-info")).toEqual({
      chart: "1.1.0",
      greeting: "from-git",
    });

    await registry.publish("app", "1.2.0", INFO_TEMPLATE);
    await requestSync(ns, "ranged");
    await expect
      .poll(async () => (await configMapData(ns, "ranged-info"))?.["chart"])
      .toBe("1.2.0");

    // A blob whose bytes are not its digest is refused (ORAS checks each blob), naming the URL.
    await registry.publish("app", "1.3.0", INFO_TEMPLATE);
    registry.tamper("app", "1.3.0");
    await requestSync(ns, "ranged");
    const refused = await waitForReadyReason(ns, "ranged", "HelmFailed");
    const message = condition(refused, "Ready")?.message ?? "";
    expect(message).toContain(`chart registry ${registry.url}/app (version "^1.0"): helm pull`);
    expect(message).toContain("mismatched digest (a blob's bytes do not match the digest its");
    expect((await configMapData(ns, "ranged-info"))?.["chart"]).toBe("1.2.0");
    expect((await readGitSync(ns, "pinned")).status?.helm?.version).toBe("2.0.0");
  });

  it("names the registry when the password is wrong, never the password", async () => {
    const ns = await testNamespace("helm-oci-auth");
    const registry = await startOciRegistry();
    await registry.publish("app", "1.0.0", INFO_TEMPLATE);
    await credentials(ns, basicAuth(registry, "wrong-password-9"));
    await gitSyncFor(ns, "app", { repoURL: registry.url, name: "app", version: "1.0.0" });
    const failed = await waitForReadyReason(ns, "app", "HelmFailed");
    const message = condition(failed, "Ready")?.message ?? "";
    expect(message).toContain(`chart registry ${registry.url}/app (version "1.0.0")`);
    expect(message).toMatch(/401.*\(check spec\.helm\.chart\.secretRef\)/);
    expect(message).not.toContain("wrong-password");
    expect(harness.logs.raw()).not.toContain("wrong-password");
  });

  it("pulls with a bearer token (registrytoken), and refuses one for another repository", async () => {
    const ns = await testNamespace("helm-oci-token");
    const registry = await startOciRegistry("token");
    await registry.publish("app", "1.0.0", INFO_TEMPLATE);
    const bearer = registry.token("app", ["pull"]);
    await credentials(ns, { bearerToken: bearer, "ca.crt": registry.ca.cert });
    const chart = { repoURL: registry.url, name: "app", version: "~1.0" };
    const commit = await gitSyncFor(ns, "app", chart);
    await waitForApplied(ns, "app", commit);
    expect((await configMapData(ns, "app-info"))?.["chart"]).toBe("1.0.0");

    const other = registry.token("other", ["pull"]);
    await credentials(ns, { bearerToken: other, "ca.crt": registry.ca.cert });
    await requestSync(ns, "app");
    const failed = await waitForReadyReason(ns, "app", "HelmFailed");
    const message = condition(failed, "Ready")?.message ?? "";
    expect(message).toContain(`chart registry ${registry.url}/app (version "~1.0")`);
    expect(message).toContain("401");
    expect(message).not.toContain(other.split(".")[2] ?? "?");
  });

  it("keeps an exact version in the cache, and gives up on a registry that never answers", async () => {
    const registry = await startOciRegistry();
    const pushed = await registry.publish("app", "1.0.0", INFO_TEMPLATE);
    const cacheDir = join(scratch(), "cache");
    const settings: HelmSettings = {
      helm: ensureHelm(),
      searchPath: process.env["PATH"] ?? "",
      homeDir: scratch(),
      timeoutMs: 20_000,
      cacheDir,
    };
    const creds = { username: registry.username, password: registry.password };
    const chart = { repoURL: registry.url, name: "app", version: "1.0.0" };
    const pulled = await pullFromOci(chart, { ...creds, caPem: registry.ca.cert }, settings);
    expect(pulled).toMatchObject({ version: "1.0.0", digest: sha256File(pushed) });
    expect(existsSync(pulled.archive)).toBe(true);
    // Only the archive is left: the registry config and CA went with the pull's folder.
    expect(readdirSync(cacheDir)).toEqual([pulled.archive.split("/").at(-1)]);

    await registry.stop();
    expect(await pullFromOci(chart, creds, settings)).toEqual(pulled);
    const range = pullFromOci({ ...chart, version: "^1.0" }, creds, settings);
    await expect(range).rejects.toThrow(`chart registry ${registry.url}/app (version "^1.0")`);

    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => {
      silent.close();
    });
    const url = `oci://127.0.0.1:${String((silent.address() as AddressInfo).port)}/charts`;
    const started = performance.now();
    const err: unknown = await pullFromOci({ repoURL: url, name: "app", version: "1.0.0" }, creds, {
      ...settings,
      timeoutMs: 3000,
    }).catch((e: unknown) => e);
    expect(isGuardError(err, ErrorCodes.RENDER_HELM_FAILED)).toBe(true);
    expect((err as Error).message).toBe(
      `chart registry ${url}/app (version "1.0.0"): no answer in 3000 ms`,
    );
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(readdirSync(cacheDir)).toHaveLength(1);
  });
});
