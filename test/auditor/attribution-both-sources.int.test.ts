/**
 * Both sources on one edit: the API server's audit webhook reports the request, and the
 * admission webhook writes its fact about it. One record names the user, never two. The audit
 * webhook needs an API server flag, so the edit goes through a second API server on the shared
 * etcd (harness auditedApiServer); it reads the same webhook configuration, so it calls the
 * admission webhook too.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createKubeClient } from "../../src/kube/client.js";
import { eventually, envtest, testNamespace } from "../envtest/context.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";
import { vetoUpdates } from "../helpers/veto-webhook.js";
import { kubectl } from "../admission/harness.js";
import { drifts, factEvents, guarded, guardedByWebhook } from "./attribution-harness.js";
import { auditedApiServer, ref, startAuditor, userKubeconfig } from "./harness.js";

const exec = promisify(execFile);

/** kubectl with a kubeconfig file; the exit code and stderr, never a throw. */
async function kubectlWith(
  kubeconfig: string,
  args: readonly string[],
): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await exec(envtest().kubectl, [`--kubeconfig=${kubeconfig}`, ...args]);
    return { code: 0, stderr };
  } catch (err: unknown) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? 1, stderr: e.stderr ?? "" };
  }
}

describe("attribution with both the audit webhook and admission facts", () => {
  it("writes one record for an edit both sources report, naming the user", async () => {
    const ns = await testNamespace("attr-both");
    await guarded(ns, ["web", "frozen"]);
    const ca = makeTestCa();
    const auditor = await startAuditor({
      auditWebhook: { listen: "127.0.0.1:0", tls: makeServingCert(ca, ["127.0.0.1"]) },
    });
    await guardedByWebhook(ns, "web");
    const server = await auditedApiServer(auditor, ca, ns);
    const bobThere = userKubeconfig(server.url, "bob", ["incident-responders"], ns);
    // The second API server calls the admission webhook once it has read its configuration.
    await eventually("the second API server to call the webhook", async () => {
      const r = await kubectlWith(bobThere, [
        "label",
        "configmap",
        "web",
        "-n",
        ns,
        "probe=1",
        "--dry-run=server",
      ]);
      return r.code !== 0 && r.stderr.includes("managed from Git");
    });

    // alice is exempt: allowed, and the webhook writes its fact.
    const alice = createKubeClient({
      kubeconfig: userKubeconfig(server.url, "alice", ["developers"], ns),
    });
    await alice.mergePatch(
      ref(ns, "web"),
      { data: { LOG_LEVEL: "debug" } },
      { fieldManager: "kubectl-edit" },
    );
    await eventually("the edit's record", () => drifts(auditor.records(ns), ns).length > 0);
    await eventually("the edit's admission fact", async () =>
      (await factEvents(ns, "web")).some(
        (e) => e.metadata.annotations?.["gitops-guard.io/user"] === "alice",
      ),
    );
    // A later fact, checked after the first (the same settle time, due later): a write another
    // webhook refuses, so its fact expires. Once it has, the first fact was checked too, and,
    // had it been taken for an edit the auditor did not see, journaled.
    const expired = async (): Promise<number> =>
      Number(
        /gitops_guard_attribution_unseen_facts_total\{outcome="expired"\} (\d+)/.exec(
          await auditor.metrics.text(),
        )?.[1] ?? "0",
      );
    const before = await expired();
    await vetoUpdates(ns, "frozen");
    await eventually("the other webhook to refuse", async () => {
      const r = await kubectl("admin", ["label", "configmap", "frozen", "-n", ns, "x=1"]);
      return r.code !== 0 && r.stderr.includes("vetoed");
    });
    await eventually("the later fact checked and expired", async () => (await expired()) > before);
    const records = drifts(auditor.records(ns), ns).filter((r) => r.object?.name === "web");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      user: { username: "alice", groups: expect.arrayContaining(["developers"]) as unknown },
      userSource: "audit-webhook",
      diff: [{ path: "/data/LOG_LEVEL", op: "replace", from: "info", to: "debug" }],
    });
    // Whether the record also names the fact's Event depends on which source reached the
    // auditor first (the audit webhook's record does not wait for a fact); either way the fact,
    // checked by now, made no record of its own.
  });
});
