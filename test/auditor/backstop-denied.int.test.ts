/**
 * admission-denied records for denials by the compiled ValidatingAdmissionPolicy (the
 * backstop), which the API server makes before any webhook is called: journaled from the audit
 * webhook, once per attempt however often it is retried, never for a dry run. And no denial is
 * journaled twice: when the webhook denies (backstop off), only its Deny Event is.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { backstopName } from "../../src/admission/vap/compile.js";
import { AUDIT_WEBHOOK_PATH } from "../../src/auditor/attribution/audit-webhook.js";
import { formatRecord } from "../../src/cli/audit-run.js";
import { FIELD_MANAGER } from "../../src/kube/client.js";
import { createPolicy, readyOf, startAdmission, type KubectlResult } from "../admission/harness.js";
import { clientAs, envtest, eventually, testNamespace } from "../envtest/context.js";
import { makeServingCert, makeTestCa, type TestCa } from "../helpers/tls.js";
import {
  auditedApiServer,
  configMap,
  denials,
  denyEvents,
  startAuditor,
  userKubeconfig,
  type RunningAuditor,
} from "./harness.js";

const exec = promisify(execFile);
const GUARD_CONFIGMAPS = { match: { resources: [{ apiGroups: [""], kinds: ["ConfigMap"] }] } };

/** alice (group developers) talking to the audited API server, through kubectl. */
function aliceOn(
  serverUrl: string,
  tag: string,
): (args: readonly string[]) => Promise<KubectlResult> {
  const info = envtest();
  const kubeconfig = userKubeconfig(serverUrl, "alice", ["developers"], tag);
  return async (args) => {
    try {
      const { stdout, stderr } = await exec(info.kubectl, [`--kubeconfig=${kubeconfig}`, ...args]);
      return { code: 0, stdout, stderr };
    } catch (err: unknown) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  };
}

/**
 * Posts to the auditor's audit webhook, as an API server would, the captured audit event of a
 * backstop denial, made about ns/name (a new request, now): a marker the auditor journals.
 */
async function postBackstopDenial(
  auditor: RunningAuditor,
  ca: TestCa,
  ns: string,
  name: string,
): Promise<void> {
  const url = new URL("./fixtures/backstop-denied.audit.json", import.meta.url);
  const now = new Date().toISOString();
  const event: unknown = {
    ...(JSON.parse(readFileSync(url, "utf8")) as object),
    auditID: randomUUID(),
    requestReceivedTimestamp: now,
    stageTimestamp: now,
    objectRef: { resource: "configmaps", namespace: ns, name, apiVersion: "v1" },
  };
  const body = JSON.stringify({ apiVersion: "audit.k8s.io/v1", kind: "EventList", items: [event] });
  const target = `${auditor.component.auditWebhookUrl() ?? ""}${AUDIT_WEBHOOK_PATH}`;
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const req = request(target, { method: "POST", ca: ca.cert }, (res) => {
      res.resume();
      res.on("end", () => {
        resolve(res.statusCode);
      });
    });
    req.on("error", reject);
    req.setHeader("content-type", "application/json");
    req.end(body);
  });
  expect(status).toBe(200);
}

/** The records about ns/name (the markers' are about other objects). */
const about = (auditor: RunningAuditor, ns: string, name: string) =>
  denials(auditor, ns).filter((r) => r.object?.name === name);

describe("admission-denied records of the compiled policies", () => {
  it("journals alice's edit the backstop denied once, with her groups, the kind and the GuardPolicy", async () => {
    const ns = await testNamespace("bsdenied");
    const ca = makeTestCa();
    const auditor = await startAuditor({
      auditWebhook: { listen: "127.0.0.1:0", tls: makeServingCert(ca, ["127.0.0.1"]) },
    });
    const server = await auditedApiServer(auditor, ca, ns);
    const alice = aliceOn(server.url, ns);
    await startAdmission(ns);
    const policy = await createPolicy(ns, GUARD_CONFIGMAPS);
    await eventually("the backstop to be applied", async () =>
      String((await readyOf(policy))?.["message"]).includes(backstopName(policy)),
    );
    await clientAs("reconciler").apply(configMap(ns, "web"), { fieldManager: FIELD_MANAGER });
    await clientAs("reconciler").apply(configMap(ns, "marker"), { fieldManager: FIELD_MANAGER });
    const label = ["label", "configmap/web", "-n", ns];
    const byBackstop = `ValidatingAdmissionPolicy '${backstopName(policy)}'`;

    // A dry run until the audited API server enforces the policy: it denies, and is not journaled
    // (nor, being a dry run, would the webhook write an Event for it).
    await eventually("the audited API server to enforce the backstop", async () => {
      const r = await alice([...label, "tried=dry-run", "--dry-run=server"]);
      return r.stderr.includes(byBackstop);
    });
    const denied = await alice([...label, "edited=by-alice"]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(byBackstop);
    expect(denied.stderr).toContain("alice may not change it directly");
    await eventually("the denial's record", () => denials(auditor, ns).length > 0);
    for (let i = 0; i < 3; i++) {
      expect((await alice([...label, "edited=by-alice"])).stderr).toContain(byBackstop);
    }
    // A marker: alice's denied edit of another ConfigMap. The audit webhook blocks, so each
    // retry's audit event reached the auditor before alice had her answer, and the auditor
    // journals backstop denials one at a time in the order they came (BackstopJournal): with
    // the marker journaled, a record of a retry would be too.
    const marker = await alice(["label", "configmap/marker", "-n", ns, "edited=by-alice"]);
    expect(marker.stderr).toContain(byBackstop);
    await eventually("the marker's record", () => about(auditor, ns, "marker").length > 0);

    const records = about(auditor, ns, "web");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      object: { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "web" },
      user: { username: "alice", groups: expect.arrayContaining(["developers"]) as unknown },
      diff: [],
      reason: "BackstopDenied",
      auditId: expect.any(String) as unknown,
    });
    expect(records[0]?.message).toMatch(
      new RegExp(
        `^UPDATE denied by GuardPolicy ${policy} \\(ValidatingAdmissionPolicy ${backstopName(policy)}\\): .*alice may not change it directly`,
      ),
    );
    // The webhook never heard of the request: no Deny Event.
    expect(await denyEvents(ns)).toHaveLength(0);
    process.stdout.write(`audit list: ${formatRecord(records[0]!)}\n`);
  });

  it("journals a denial by the webhook once, from its Event: the audit event adds nothing", async () => {
    const ns = await testNamespace("whdenied");
    const ca = makeTestCa();
    const auditor = await startAuditor({
      auditWebhook: { listen: "127.0.0.1:0", tls: makeServingCert(ca, ["127.0.0.1"]) },
    });
    const server = await auditedApiServer(auditor, ca, ns);
    const alice = aliceOn(server.url, ns);
    await startAdmission(ns, { backstop: false });
    const policy = await createPolicy(ns, GUARD_CONFIGMAPS);
    await eventually(
      "the policy to be Ready",
      async () => (await readyOf(policy))?.["status"] === "True",
    );
    await clientAs("reconciler").apply(configMap(ns, "web"), { fieldManager: FIELD_MANAGER });

    await eventually("alice's edit to be denied by the webhook", async () => {
      const r = await alice(["label", "configmap/web", "-n", ns, "edited=by-alice"]);
      return r.code !== 0 && r.stderr.includes("managed from Git");
    });
    await eventually("the denial's record", () => denials(auditor, ns).length > 0);
    // A marker on the audit events' path: the audit webhook blocks, so the request's audit
    // event came before alice had her answer, and the auditor journals backstop denials one at
    // a time in the order they came: had that event been taken for one, it would be journaled.
    await postBackstopDenial(auditor, ca, ns, "marker");
    await eventually("the marker's record", () => about(auditor, ns, "marker").length > 0);

    const records = about(auditor, ns, "web");
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      object: { kind: "ConfigMap", namespace: ns, name: "web" },
      user: { username: "alice" },
      reason: "OutOfBandChange",
    });
    expect(records[0]?.auditId).toBeUndefined();
    expect(await denyEvents(ns)).toHaveLength(1);
    // The audit webhook did receive the request's audit event.
    expect(await auditor.metrics.text()).toMatch(
      /gitops_guard_audit_webhook_events_total\{outcome="accepted"\} [1-9]/,
    );
  });
});
