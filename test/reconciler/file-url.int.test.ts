// Without --allow-file-urls a GitSync may not name a file:// repository: it would read any
// repository on the controller's own disk (another tenant's checkout, a mounted volume).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  exists,
  putGitSync,
  startReconciler,
  waitForReadyReason,
  type Harness,
} from "./helpers/harness.js";
import { configMap, yaml } from "./helpers/manifests.js";

let harness: Harness;
beforeAll(async () => {
  harness = await startReconciler({}, {}, { allowFileUrls: false });
});
afterAll(async () => {
  await harness.stop();
});

describe("file:// repositories", () => {
  it("are refused with a condition that says why, and nothing is fetched or applied", async () => {
    const ns = await testNamespace("file-url");
    const repo = await GitRepo.create();
    await repo.commit("one", { "a.yaml": yaml(configMap("a", { v: "1" })) });
    await putGitSync(ns, "local", { url: repo.url, ref: { branch: "main" } });
    const refused = await waitForReadyReason(ns, "local", "FileURLNotAllowed");
    const ready = condition(refused, "Ready");
    expect(ready?.status).toBe("False");
    expect(ready?.message).toContain("--allow-file-urls");
    expect(ready?.observedGeneration).toBe(refused.metadata.generation);
    expect(refused.status?.lastAttemptedRevision).toBeUndefined();
    expect(await exists({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "a" })).toBe(
      false,
    );
  });
});
