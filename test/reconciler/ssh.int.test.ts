import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientAs, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  eventsOf,
  exists,
  putGitSync,
  startReconciler,
  waitForApplied,
  type Harness,
  waitForReadyReason,
} from "./helpers/harness.js";
import { configMap, yaml } from "./helpers/manifests.js";
import { SSHD, startSshd, type SshServer } from "./helpers/sshd.js";

// sshd comes from Debian's openssh-server; without it this file is skipped (.ci/run should install it).
const haveSshd = existsSync(SSHD);

let harness: Harness;
let sshd: SshServer;
let repo: GitRepo;
beforeAll(async () => {
  if (!haveSshd) return;
  harness = await startReconciler();
  sshd = await startSshd();
  repo = await GitRepo.create();
});
afterAll(async () => {
  if (!haveSshd) return;
  await sshd.stop();
  await harness.stop();
});

async function putKeySecret(namespace: string, knownHosts: string): Promise<void> {
  await clientAs("admin").apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "git-ssh", namespace },
    stringData: { identity: sshd.clientKey, known_hosts: knownHosts },
  });
}

describe.skipIf(!haveSshd)("GitSync over SSH with a key and known_hosts", () => {
  it("fetches with the key when the host key is known", async () => {
    const ns = await testNamespace("ssh");
    const c1 = await repo.commit("one", { "cm.yaml": yaml(configMap("over-ssh", { v: "1" })) });
    await putKeySecret(ns, sshd.knownHosts);
    await putGitSync(ns, "ssh", {
      url: sshd.url(repo.dir),
      ref: { branch: "main" },
      secretRef: { name: "git-ssh" },
    });
    await waitForApplied(ns, "ssh", c1);
    expect(
      await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "over-ssh" }),
    ).toBe(true);
  });

  it("refuses a server whose host key is not the one in known_hosts, without leaking the key", async () => {
    const ns = await testNamespace("mitm");
    await putKeySecret(ns, sshd.wrongKnownHosts);
    await putGitSync(ns, "ssh", { url: sshd.url(repo.dir), secretRef: { name: "git-ssh" } });
    const rejected = await waitForReadyReason(ns, "ssh", "GitHostKeyRejected");
    expect(condition(rejected, "Ready")?.message).toContain(
      "the SSH host key of the Git server is not in known_hosts",
    );
    const keyBody = sshd.clientKey.split("\n")[1] ?? "";
    expect(keyBody.length).toBeGreaterThan(20);
    const shown = [
      JSON.stringify(rejected),
      JSON.stringify(await eventsOf(ns, "ssh")),
      harness.logs.raw(),
    ].join("\n");
    expect(shown).not.toContain(keyBody);
  });
});
