/**
 * Two webhook replicas behind the API server, as two pods behind one Service: two processes
 * sharing nothing but the API server, behind a layer-4 balancer. Each writes the facts of the
 * requests it judged; the auditor joins facts from both.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { replicasBehindBalancer } from "../helpers/admission-replica.js";
import { drifts, guarded, guardPolicyReady, webhookServing } from "./attribution-harness.js";
import { ref, startAuditor } from "./harness.js";

type FactEvent = KubeObject & { reason?: string; reportingInstance?: string };

async function factEvents(ns: string): Promise<FactEvent[]> {
  const { items } = await clientAs("admin").list<FactEvent>(
    { apiVersion: "events.k8s.io/v1", kind: "Event" },
    { namespace: ns },
  );
  return items.filter((e) => e.reason === "Exempt");
}

describe("attribution with two webhook replicas", () => {
  it("joins the facts of both replicas: every edit named, whichever replica judged it", async () => {
    const ns = await testNamespace("attr-replicas");
    const names = Array.from({ length: 10 }, (_, i) => `cm-${String(i)}`);
    await guarded(ns, names);
    const auditor = await startAuditor();
    const { replicas, balancer } = await replicasBehindBalancer(ns, 2);
    await guardPolicyReady(ns);

    const admin = clientAs("admin");
    for (const [index, batch] of [names.slice(0, 5), names.slice(5)].entries()) {
      // The other replica's connections are cut: the API server reconnects to this one.
      balancer.use(index);
      await webhookServing(ns, "cm-0");
      for (const name of batch) {
        await admin.mergePatch(
          ref(ns, name),
          { data: { LOG_LEVEL: "debug" } },
          { fieldManager: "kubectl-edit" },
        );
      }
    }
    await eventually("10 drift records", () => drifts(auditor.records(), ns).length === 10);
    const records = drifts(auditor.records(), ns);
    for (const record of records) {
      expect(record.user?.username, record.object?.name).toBe("envtest-admin");
      expect(record.userSource).toBe("admission");
    }
    // Which replica wrote each joined fact: the Event's reportingInstance.
    const instanceOf = new Map(
      (await factEvents(ns)).map((e) => [e.metadata.name, e.reportingInstance]),
    );
    const byReplica = (name: string): string | undefined =>
      instanceOf.get(records.find((r) => r.object?.name === name)?.event?.name);
    expect(names.slice(0, 5).map(byReplica)).toEqual(Array(5).fill(replicas[0]?.identity));
    expect(names.slice(5).map(byReplica)).toEqual(Array(5).fill(replicas[1]?.identity));
    expect(balancer.connections().every((n) => n > 0)).toBe(true);
  });
});
