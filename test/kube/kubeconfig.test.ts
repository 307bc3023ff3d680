/** One loader for every kubeconfig: a list of files merged as kubectl merges KUBECONFIG. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { contextNamespace, kubeconfigFiles } from "../../src/cli/kubeconfig.js";
import { loadConfig } from "../../src/config.js";
import { ErrorCodes } from "../../src/errors.js";
import { createKubeClient } from "../../src/kube/client.js";
import { loadKubeConfig } from "../../src/kube/kubeconfig.js";

const dir = mkdtempSync(join(tmpdir(), "gg-kubeconfig-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, doc: object): string {
  const file = join(dir, name);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, stringify({ apiVersion: "v1", kind: "Config", ...doc }));
  return file;
}

const cluster = (name: string, server: string, ca?: string): object => ({
  name,
  cluster: { server, ...(ca === undefined ? {} : { "certificate-authority": ca }) },
});
const context = (name: string, namespace?: string): object => ({
  name,
  context: { cluster: name, user: "me", ...(namespace === undefined ? {} : { namespace }) },
});

describe("KUBECONFIG=a:b for gitops-guard run", () => {
  it("loads when one file holds the cluster and user and the other the context", () => {
    const a = write("split/clusters", {
      clusters: [cluster("prod", "https://prod.example:6443")],
      users: [{ name: "me", user: { token: "t" } }],
    });
    const b = write("split/context", { contexts: [context("prod")], "current-context": "prod" });
    const env = { KUBECONFIG: [a, b].join(delimiter) };
    const config = loadConfig({ flags: {}, env, hostname: "test" });
    expect(config.kubeconfig).toEqual([a, b]);
    const kube = createKubeClient({ kubeconfig: config.kubeconfig ?? [] });
    expect(kube.rest.server).toBe("https://prod.example:6443");
  });
});

describe("loadKubeConfig", () => {
  it("merges a list as kubectl: the first file to name an entry or set the context wins", () => {
    const a = write("a/config", {
      clusters: [cluster("prod", "https://prod-a:6443", "ca.crt")],
      users: [{ name: "me", user: { token: "from-a" } }],
    });
    const b = write("b/config", {
      clusters: [cluster("prod", "https://prod-b:6443"), cluster("dev", "https://dev:6443")],
      users: [{ name: "me", user: { token: "from-b" } }],
      contexts: [context("prod", "shop"), context("dev")],
      "current-context": "prod",
    });
    const c = write("c/config", { "current-context": "dev" });
    const kc = loadKubeConfig([a, join(dir, "missing"), b, c]);
    expect(kc.getCurrentContext()).toBe("prod");
    expect(kc.getCurrentCluster()).toMatchObject({
      server: "https://prod-a:6443",
      // Relative to the file that named it, as kubectl resolves it.
      caFile: join(dir, "a", "ca.crt"),
    });
    expect(kc.getCurrentUser()).toMatchObject({ token: "from-a" });
    expect(kc.getContextObject("prod")?.namespace).toBe("shop");
    expect(kc.getClusters().map((x) => x.name)).toEqual(["prod", "dev"]);
  });

  it("needs a file named alone, and at least one file of a list", () => {
    const missing = join(dir, "nowhere");
    expect(() => loadKubeConfig(missing)).toThrow(
      expect.objectContaining({ code: ErrorCodes.KUBECONFIG_INVALID }),
    );
    expect(() => loadKubeConfig([missing, `${missing}-2`])).toThrow(
      expect.objectContaining({
        code: ErrorCodes.KUBECONFIG_INVALID,
        message: expect.stringContaining("none of its files exists") as unknown,
      }),
    );
    const noContext = write("no-context", { clusters: [cluster("x", "https://x:6443")] });
    expect(() => loadKubeConfig([noContext, missing])).toThrow(/has no current cluster/);
  });
});

describe("the CLI's kubeconfig", () => {
  it("takes --kubeconfig, else every file of KUBECONFIG, else ~/.kube/config", () => {
    expect(kubeconfigFiles("/k", { KUBECONFIG: "/a:/b" })).toEqual(["/k"]);
    expect(kubeconfigFiles(undefined, { KUBECONFIG: "/a::/b", HOME: "/h" })).toEqual(["/a", "/b"]);
    expect(kubeconfigFiles(undefined, { HOME: "/h" })).toEqual(["/h/.kube/config"]);
    expect(kubeconfigFiles(undefined, { KUBERNETES_SERVICE_HOST: "10.0.0.1" })).toBe(undefined);
  });

  it("reads the namespace of the merged current context", async () => {
    const first = write("ns/first", { contexts: [context("prod", "from-first")] });
    const second = write("ns/second", {
      contexts: [context("prod", "from-second")],
      "current-context": "prod",
    });
    expect(await contextNamespace([join(dir, "missing"), first, second])).toBe("from-first");
    expect(await contextNamespace([second])).toBe("from-second");
    expect(await contextNamespace(undefined)).toBe("default");
  });
});
