/**
 * spec.helm.chart: a chart from an HTTPS chart repository (made by the real `helm package` and
 * `helm repo index`, behind basic auth and a private CA), values files from the GitSync's Git
 * repository, a semver range that moves to a newer version when one is published, a tampered
 * archive refused by its digest, wrong credentials and a repository that never answers named.
 */
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { clientAs, testNamespace } from "../envtest/context.js";
import { chartRepo, type ChartRepo } from "./helpers/chart-repo.js";
import { GitRepo } from "./helpers/git-repo.js";
import { configMapData, INFO_TEMPLATE } from "./helpers/helm-tests.js";
import {
  condition,
  putGitSync,
  requestSync,
  startReconciler,
  waitForApplied,
  waitForGitSync,
  waitForReadyReason,
  type Harness,
} from "./helpers/harness.js";

let harness: Harness;
beforeAll(async () => {
  // A short render timeout, for the repository that never answers.
  harness = await startReconciler({ kustomizeTimeoutMs: 5000 });
});
afterAll(async () => {
  await harness.stop();
});

async function credentials(ns: string, repo: ChartRepo, password = repo.password): Promise<void> {
  await clientAs("admin").apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "charts", namespace: ns },
    stringData: { username: repo.username, password, "ca.crt": repo.ca.cert },
  });
}

async function valuesRepo(): Promise<{ url: string; commit: string }> {
  const git = await GitRepo.create();
  const commit = await git.commit("values", { "env/prod.yaml": "greeting: from-git\n" });
  return { url: git.url, commit };
}

describe("a chart from a chart repository", () => {
  it("resolves a range to the newest version, with values from Git, and moves on when one is published", async () => {
    const ns = await testNamespace("helm-repo");
    const repo = await chartRepo();
    repo.publish("app", "1.0.0", INFO_TEMPLATE);
    repo.publish("app", "1.1.0", INFO_TEMPLATE);
    repo.publish("app", "2.0.0", INFO_TEMPLATE);
    await credentials(ns, repo);
    const git = await valuesRepo();
    await putGitSync(ns, "app", {
      url: git.url,
      ref: { branch: "main" },
      helm: {
        chart: { repoURL: repo.url, name: "app", version: "^1.0", secretRef: { name: "charts" } },
        valueFiles: ["env/prod.yaml"],
      },
    });
    const applied = await waitForApplied(ns, "app", git.commit);
    expect(await configMapData(ns, "app-info")).toEqual({ chart: "1.1.0", greeting: "from-git" });
    expect(applied.status?.helm).toEqual({
      chart: "app",
      version: "1.1.0",
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
      repoURL: repo.url,
      valuesDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
    });

    repo.publish("app", "1.2.0", INFO_TEMPLATE);
    await requestSync(ns, "app");
    await expect.poll(async () => (await configMapData(ns, "app-info"))?.["chart"]).toBe("1.2.0");
    const moved = await waitForGitSync(
      ns,
      "app",
      "1.2.0 in status",
      (o) => o.status?.helm?.version === "1.2.0",
    );
    expect(moved.status?.helm?.digest).not.toBe(applied.status?.helm?.digest);

    // A published archive whose bytes are not the index's is refused, naming it.
    repo.publish("app", "1.3.0", INFO_TEMPLATE);
    repo.tamper("app", "1.3.0");
    await requestSync(ns, "app");
    const refused = await waitForReadyReason(ns, "app", "HelmFailed");
    expect(condition(refused, "Ready")?.message).toMatch(
      /app-1\.3\.0\.tgz: the archive's sha256 [0-9a-f]{64} is not the index's [0-9a-f]{64}: refused/,
    );
    expect((await configMapData(ns, "app-info"))?.["chart"]).toBe("1.2.0");
  });

  it("applies a chart alone, without a Git repository: its revision is the version and digest", async () => {
    const ns = await testNamespace("helm-nogit");
    const repo = await chartRepo();
    repo.publish("app", "1.0.0", INFO_TEMPLATE);
    await credentials(ns, repo);
    await putGitSync(ns, "app", {
      helm: {
        chart: { repoURL: repo.url, name: "app", version: "1.0.0", secretRef: { name: "charts" } },
        values: { greeting: "inline" },
      },
    });
    const applied = await waitForGitSync(
      ns,
      "app",
      "Ready",
      (o) => condition(o, "Ready")?.status === "True",
    );
    expect(await configMapData(ns, "app-info")).toEqual({ chart: "1.0.0", greeting: "inline" });
    const digest = applied.status?.helm?.digest ?? "";
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(applied.status?.lastAppliedRevision).toBe(`1.0.0@${digest}`);
  });

  it("upgrades to a new version: its pre-upgrade hook runs first, what it dropped is pruned", async () => {
    const ns = await testNamespace("helm-upgrade");
    const repo = await chartRepo();
    const hook = (version: string): string =>
      [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: migration",
        "  annotations:",
        '    helm.sh/hook: "pre-install,pre-upgrade"',
        '    helm.sh/hook-weight: "-1"',
        `data: { to: "${version}" }`,
        "",
      ].join("\n");
    const extra = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: legacy }\ndata: { v: "1" }\n';
    repo.publish("app", "1.0.0", `${INFO_TEMPLATE}---\n${hook("1.0.0")}---\n${extra}`);
    repo.publish("app", "1.1.0", `${INFO_TEMPLATE}---\n${hook("1.1.0")}`);
    await credentials(ns, repo);
    const git = await valuesRepo();
    const spec = (version: string): Record<string, unknown> => ({
      url: git.url,
      ref: { branch: "main" },
      prune: true,
      helm: { chart: { repoURL: repo.url, name: "app", version, secretRef: { name: "charts" } } },
    });
    await putGitSync(ns, "app", spec("1.0.0"));
    await waitForApplied(ns, "app", git.commit);
    expect(await configMapData(ns, "migration")).toEqual({ to: "1.0.0" });
    expect(await configMapData(ns, "legacy")).toEqual({ v: "1" });

    await putGitSync(ns, "app", spec("1.1.0"));
    const upgraded = await waitForGitSync(
      ns,
      "app",
      "1.1.0 applied",
      (o) => o.status?.helm?.version === "1.1.0",
    );
    expect(await configMapData(ns, "migration")).toEqual({ to: "1.1.0" });
    expect(await configMapData(ns, "legacy")).toBeUndefined();
    expect((upgraded.status?.inventory ?? []).map((e) => e.name).sort()).toEqual([
      "app-info",
      "migration",
    ]);
  });

  it("names the repository when the credentials are wrong, never the password", async () => {
    const ns = await testNamespace("helm-repo-auth");
    const repo = await chartRepo();
    repo.publish("app", "1.0.0", INFO_TEMPLATE);
    await credentials(ns, repo, "wrong-password-9");
    const git = await valuesRepo();
    await putGitSync(ns, "app", {
      url: git.url,
      ref: { branch: "main" },
      helm: {
        chart: { repoURL: repo.url, name: "app", version: "1.0.0", secretRef: { name: "charts" } },
      },
    });
    const failed = await waitForReadyReason(ns, "app", "HelmFailed");
    const message = condition(failed, "Ready")?.message ?? "";
    expect(message).toContain(`chart repository ${repo.url}/index.yaml: GET answered 401`);
    expect(message).not.toContain("wrong-password");
  });

  it("gives up on a repository that never answers, naming its URL", async () => {
    const ns = await testNamespace("helm-repo-slow");
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => {
      silent.close();
    });
    const url = `http://127.0.0.1:${String((silent.address() as AddressInfo).port)}/charts`;
    const git = await valuesRepo();
    await putGitSync(ns, "app", {
      url: git.url,
      ref: { branch: "main" },
      helm: { chart: { repoURL: url, name: "app", version: "1.0.0" } },
    });
    const failed = await waitForGitSync(ns, "app", "HelmFailed", (o) =>
      (condition(o, "Ready")?.message ?? "").includes("no answer in 5000 ms"),
    );
    expect(condition(failed, "Ready")?.message).toContain(`chart repository ${url}/index.yaml`);
  });
});
