import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientAs, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import { serveGitHttp, type GitHttpServer } from "./helpers/git-http.js";
import {
  condition,
  eventsOf,
  exists,
  putGitSync,
  requestSync,
  startReconciler,
  waitForApplied,
  type Harness,
  waitForReadyReason,
} from "./helpers/harness.js";
import { configMap, yaml } from "./helpers/manifests.js";
import { tempDir } from "./helpers/temp.js";

const TOKEN = "ghp_0123456789abcdefTOKENvalue";
const WRONG = "ghp_wrongwrongwrongWRONGvalue";

let harness: Harness;
let server: GitHttpServer;
let repo: GitRepo;
beforeAll(async () => {
  harness = await startReconciler();
  const root = tempDir("gg-http-");
  repo = await GitRepo.create(root, "apps.git");
  server = await serveGitHttp(root, TOKEN);
});
afterAll(async () => {
  await server.close();
  await harness.stop();
});

async function putSecret(namespace: string, data: Record<string, string>): Promise<void> {
  await clientAs("admin").apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "git-auth", namespace },
    stringData: data,
  });
}

describe("GitSync over smart HTTP with a token", () => {
  it("fetches with a bearer token, and a bad token gives a clear condition without the token", async () => {
    const ns = await testNamespace("http");
    const c1 = await repo.commit("one", { "cm.yaml": yaml(configMap("over-http", { v: "1" })) });
    await putSecret(ns, { bearerToken: WRONG });
    await putGitSync(ns, "remote", {
      url: server.url("apps.git"),
      ref: { branch: "main" },
      secretRef: { name: "git-auth" },
    });

    const rejected = await waitForReadyReason(ns, "remote", "GitAuthFailed");
    const message = condition(rejected, "Ready")?.message ?? "";
    expect(message).toContain("the Git server rejected the credentials (check spec.secretRef)");
    expect(
      await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "over-http" }),
    ).toBe(false);
    // The server saw the wrong token and refused it: real HTTP authentication, not a mock.
    expect(server.requests.some((r) => !r.authorized)).toBe(true);

    await putSecret(ns, { bearerToken: TOKEN });
    await requestSync(ns, "remote");
    await waitForApplied(ns, "remote", c1);
    expect(server.requests.at(-1)?.authorized).toBe(true);
    expect(
      await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "over-http" }),
    ).toBe(true);

    // No credential value ever reaches status, Events or logs.
    const everything = [
      JSON.stringify(
        await clientAs("admin").get({
          apiVersion: "gitops-guard.io/v1alpha1",
          kind: "GitSync",
          namespace: ns,
          name: "remote",
        }),
      ),
      JSON.stringify(await eventsOf(ns, "remote")),
      harness.logs.raw(),
    ].join("\n");
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(WRONG);
  });

  it("fetches with username and password (a token as password, as GitHub and GitLab take it)", async () => {
    const ns = await testNamespace("basic");
    const c1 = await repo.commit("two", { "cm.yaml": yaml(configMap("over-basic", { v: "1" })) });
    await putSecret(ns, { username: "x-access-token", password: TOKEN });
    await putGitSync(ns, "remote", {
      url: server.url("apps.git"),
      secretRef: { name: "git-auth" },
    });
    await waitForApplied(ns, "remote", c1);
    expect(
      await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "over-basic" }),
    ).toBe(true);
  });

  it("says credentials are needed when the server asks and no secretRef is set", async () => {
    const ns = await testNamespace("anon");
    await putGitSync(ns, "remote", { url: server.url("apps.git") });
    const denied = await waitForReadyReason(ns, "remote", "GitAuthFailed");
    expect(condition(denied, "Ready")?.message).toContain(
      "the Git server requires credentials (set spec.secretRef)",
    );
  });
});
