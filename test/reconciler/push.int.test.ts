// The push endpoint on the real API server with a real Git repository: a signed GitHub push syncs
// the GitSyncs that follow the pushed branch at once (their interval is an hour), GitLab's token
// and a generic HMAC work the same way, and an unsigned or badly signed push changes nothing.
import { once } from "node:events";
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { REQUESTED_AT_ANNOTATION } from "../../src/reconciler/names.js";
import { clientAs, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  putGitSync,
  readGitSync,
  startReconciler,
  waitForApplied,
  type Harness,
} from "./helpers/harness.js";
import { configMap, yaml } from "./helpers/manifests.js";

const CONTROLLER_NAMESPACE = "gitops-guard-system";
const SECRET_NAME = `push-${randomBytes(4).toString("hex")}`;
const GITHUB_SECRET = "gh-secret-for-the-push-test";
const GITLAB_TOKEN = "gl-token-for-the-push-test";
const GENERIC_SECRET = "generic-secret-for-the-push-test";
const admin = clientAs("admin");
let harness: Harness;
let server: Server;
let base: string;

beforeAll(async () => {
  await admin.create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: SECRET_NAME, namespace: CONTROLLER_NAMESPACE },
    stringData: { github: GITHUB_SECRET, gitlab: GITLAB_TOKEN, generic: GENERIC_SECRET },
  });
  harness = await startReconciler({ pushSecretName: SECRET_NAME });
  const app = express();
  const routes = harness.component.routes;
  if (routes === undefined) throw new Error("the reconciler serves no routes");
  app.use(routes());
  server = createServer(app).listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});

afterAll(async () => {
  server.close();
  await harness.stop();
  await admin.delete({
    apiVersion: "v1",
    kind: "Secret",
    namespace: CONTROLLER_NAMESPACE,
    name: SECRET_NAME,
  });
});

function post(headers: Record<string, string>, payload: string): Promise<globalThis.Response> {
  return fetch(`${base}/hooks/git`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: payload,
  });
}

const sign = (secret: string, payload: string, algorithm = "sha256"): string =>
  `${algorithm}=${createHmac(algorithm, secret).update(payload).digest("hex")}`;

async function value(namespace: string): Promise<string | undefined> {
  const cm = await admin.get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "ConfigMap",
    namespace,
    name: "settings",
  });
  return cm?.data?.["v"];
}

/** A repo with branch main, a GitSync on main and one on branch dev, both applied. */
async function setup(ns: string): Promise<{ repo: GitRepo; first: string }> {
  const repo = await GitRepo.create();
  const first = await repo.commit("v1", {
    "main/app.yaml": yaml(configMap("settings", { v: "1" }, { namespace: ns })),
    "dev/app.yaml": yaml(configMap("other", { v: "1" }, { namespace: ns })),
  });
  await repo.git("branch", "dev");
  await putGitSync(ns, "main", { url: repo.url, ref: { branch: "main" }, path: "main" });
  await putGitSync(ns, "dev", { url: repo.url, ref: { branch: "dev" }, path: "dev" });
  await waitForApplied(ns, "main", first);
  await waitForApplied(ns, "dev", first);
  return { repo, first };
}

const githubPush = (url: string, ref: string, after: string): string =>
  JSON.stringify({ ref, after, repository: { clone_url: url, default_branch: "main" } });

it("a signed GitHub push syncs the GitSyncs on the pushed branch at once", async () => {
  const ns = await testNamespace("push");
  const { repo } = await setup(ns);
  const second = await repo.commit("v2", {
    "main/app.yaml": yaml(configMap("settings", { v: "2" }, { namespace: ns })),
  });
  const payload = githubPush(repo.url, "refs/heads/main", second);
  const started = performance.now();
  const res = await post(
    { "x-github-event": "push", "x-hub-signature-256": sign(GITHUB_SECRET, payload) },
    payload,
  );
  expect(res.status).toBe(202);
  const answer = (await res.json()) as { synced: string[] };
  // Other test files' GitSyncs may follow other repositories; only ours follow this one.
  expect(answer.synced).toEqual([`${ns}/main`]);
  await waitForApplied(ns, "main", second);
  const ms = performance.now() - started;
  expect(await value(ns)).toBe("2");
  // The interval is an hour: only the push can have synced it this soon.
  expect(ms).toBeLessThan(30_000);
  const dev = await readGitSync(ns, "dev");
  expect(dev.metadata.annotations?.[REQUESTED_AT_ANNOTATION]).toBeUndefined();
  const metrics = await harness.metrics.text();
  expect(metrics).toContain('gitops_guard_git_pushes_total{provider="github",outcome="synced"} 1');
});

it("GitLab's token and a generic HMAC push sync too; a bad signature changes nothing", async () => {
  const ns = await testNamespace("push");
  const { repo } = await setup(ns);
  const before = (await readGitSync(ns, "main")).metadata.annotations?.[REQUESTED_AT_ANNOTATION];

  const second = await repo.commit("v2", {
    "main/app.yaml": yaml(configMap("settings", { v: "2" }, { namespace: ns })),
  });
  const forged = githubPush(repo.url, "refs/heads/main", second);
  const refused = await post(
    { "x-github-event": "push", "x-hub-signature-256": sign("not-the-secret", forged) },
    forged,
  );
  expect(refused.status).toBe(401);
  expect(await refused.text()).not.toContain(ns);
  const unsigned = await post({ "x-gitlab-event": "Push Hook" }, forged);
  expect(unsigned.status).toBe(401);
  expect((await readGitSync(ns, "main")).metadata.annotations?.[REQUESTED_AT_ANNOTATION]).toBe(
    before,
  );

  const gitlab = JSON.stringify({
    ref: "refs/heads/main",
    checkout_sha: second,
    project: { git_http_url: repo.url },
  });
  const viaGitlab = await post(
    { "x-gitlab-event": "Push Hook", "x-gitlab-token": GITLAB_TOKEN },
    gitlab,
  );
  expect(viaGitlab.status).toBe(202);
  await waitForApplied(ns, "main", second);

  const third = await repo.commit("v3", {
    "main/app.yaml": yaml(configMap("settings", { v: "3" }, { namespace: ns })),
  });
  const generic = JSON.stringify({ url: repo.url, ref: "refs/heads/main" });
  const viaGeneric = await post(
    { "x-signature": sign(GENERIC_SECRET, generic, "sha512") },
    generic,
  );
  expect(viaGeneric.status).toBe(202);
  await waitForApplied(ns, "main", third);
  expect(await value(ns)).toBe("3");

  const ping = await post(
    { "x-github-event": "ping", "x-hub-signature-256": sign(GITHUB_SECRET, "{}") },
    "{}",
  );
  expect(ping.status).toBe(200);
  const broken = await post({ "x-signature": sign(GENERIC_SECRET, "{") }, "{");
  expect(broken.status).toBe(400);
  expect(((await broken.json()) as { code: string }).code).toBe("GG_PUSH_PAYLOAD_INVALID");
});
