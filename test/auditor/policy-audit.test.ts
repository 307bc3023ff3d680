import { afterEach, describe, expect, it } from "vitest";
import type { AuditFact } from "../../src/auditor/attribution/facts.js";
import { FactIndex } from "../../src/auditor/attribution/index.js";
import { secretValueDigest } from "../../src/auditor/journal/record.js";
import { JournalStore } from "../../src/auditor/journal/store.js";
import { createAuditorMetrics } from "../../src/auditor/metrics.js";
import {
  lastPolicyRecords,
  PolicyAudit,
  policyChangeOf,
  policyDiff,
} from "../../src/auditor/policy-audit.js";
import { DriftRecorder } from "../../src/auditor/recorder.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { createLogger } from "../../src/telemetry/log.js";
import { createMetrics } from "../../src/telemetry/metrics.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { sink } from "../helpers/log-sink.js";

const SLACK_URL = "https://hooks.slack.example/services/T000/B000/s3cr3t-hook";

function policy(generation: number, kinds: string[], uid = "p-1"): KubeObject {
  return {
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GuardPolicy",
    metadata: {
      name: "default",
      uid,
      generation,
      resourceVersion: String(100 + generation),
      managedFields: [
        {
          manager: "kubectl-edit",
          operation: "Update",
          apiVersion: "gitops-guard.io/v1alpha1",
          time: new Date(Date.UTC(2026, 0, 1) + generation * 1000)
            .toISOString()
            .replace(".000", ""),
          fieldsType: "FieldsV1",
          fieldsV1: { "f:spec": { [`f:g${String(generation)}`]: {} } },
        },
      ],
    },
    spec: {
      mode: "Enforce",
      match: { resources: [{ apiGroups: [""], kinds }] },
      alerts: [{ type: "slack", url: SLACK_URL }],
    },
    status: { observedGeneration: generation },
  };
}

const stores: JournalStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

interface Setup {
  clock: FakeClock;
  journal: JournalStore;
  audit: FactIndex<AuditFact>;
  live: Map<string, KubeObject>;
  policies: PolicyAudit;
}

/** A PolicyAudit; with `restartOf`, a new one on the same journal, as after a restart. */
function setup(restartOf?: Setup): Setup {
  const clock = restartOf?.clock ?? new FakeClock();
  const journal = restartOf?.journal ?? JournalStore.open(":memory:", clock);
  if (restartOf === undefined) stores.push(journal);
  const metrics = createAuditorMetrics(createMetrics().registry, () => 0);
  const recorder = new DriftRecorder({
    journal,
    metrics,
    logger: createLogger({ level: "silent", destination: sink().stream }),
  });
  const audit = new FactIndex<AuditFact>({ clock });
  const live = restartOf?.live ?? new Map<string, KubeObject>();
  const policies = new PolicyAudit({
    clock,
    recorder,
    audit,
    graceMs: 1000,
    get: (name) => live.get(name),
    journaled: () => lastPolicyRecords(journal),
  });
  return { clock, journal, audit, live, policies };
}

describe("policyChangeOf and policyDiff", () => {
  it("sees creation, generation changes and deletion; status and metadata writes are not changes", () => {
    expect(policyChangeOf(undefined, policy(1, ["ConfigMap"]))).toBe("created");
    expect(policyChangeOf(policy(1, ["ConfigMap"]), policy(1, ["ConfigMap"]))).toBeUndefined();
    expect(policyChangeOf(policy(1, ["ConfigMap"]), policy(2, ["Secret"]))).toBe("changed");
    expect(policyChangeOf(policy(1, ["ConfigMap"]), policy(1, ["ConfigMap"], "p-2"))).toBe(
      "created",
    );
    expect(policyChangeOf(policy(1, ["ConfigMap"]), undefined)).toBe("deleted");
    expect(policyChangeOf(undefined, undefined)).toBeUndefined();
  });

  it("diffs the spec with sink URLs only as digests", () => {
    const changed = policy(2, ["Secret"]);
    (changed["spec"] as { alerts: { url: string }[] }).alerts[0] = {
      url: "https://hooks.slack.example/services/T000/B000/n3w-hook",
    };
    const diff = policyDiff(policy(1, ["ConfigMap"]), changed);
    expect(diff).toEqual(
      expect.arrayContaining([
        {
          path: "/spec/match/resources/0/kinds/0",
          op: "replace",
          from: "ConfigMap",
          to: "Secret",
        },
        {
          path: "/spec/alerts/0/url",
          op: "replace",
          from: secretValueDigest(SLACK_URL),
          to: secretValueDigest("https://hooks.slack.example/services/T000/B000/n3w-hook"),
        },
      ]),
    );
    expect(JSON.stringify(diff)).not.toContain("hook");
    const created = policyDiff(undefined, policy(1, ["ConfigMap"]));
    expect(created.map((c) => c.path)).toEqual(["/spec"]);
    expect(JSON.stringify(created)).not.toContain(SLACK_URL);
    expect(policyDiff(policy(1, ["ConfigMap"]), undefined)).toEqual([{ path: "", op: "remove" }]);
  });
});

describe("PolicyAudit", () => {
  it("journals policy-changed for changes after the baseline, with the audit webhook's user", () => {
    const { clock, journal, audit, live, policies } = setup();
    live.set("default", policy(1, ["ConfigMap"]));
    policies.seed([...live.values()]);
    expect(policies.reconcile("default")).toEqual({});
    expect(journal.count()).toBe(0);

    live.set("default", policy(2, ["Secret"]));
    audit.add({
      user: { username: "carol", groups: ["platform"] },
      verb: "update",
      group: "gitops-guard.io",
      resource: "guardpolicies",
      name: "default",
      code: 200,
      receivedMs: clock.now(),
      resourceVersion: "102",
      auditId: "a-1",
    });
    expect(policies.reconcile("default")).toEqual({});
    const [changed] = journal.list();
    expect(changed).toMatchObject({
      type: "policy-changed",
      object: { kind: "GuardPolicy", name: "default", uid: "p-1" },
      user: { username: "carol", groups: ["platform"] },
      fieldManagers: ["kubectl-edit (Update)"],
      message: "GuardPolicy default changed (generation 2) by carol (from audit-webhook)",
    });
    expect(JSON.stringify(journal.list())).not.toContain(SLACK_URL);
  });

  it("waits for attribution, then journals the deletion unattributed", async () => {
    const { clock, journal, live, policies } = setup();
    live.set("default", policy(1, ["ConfigMap"]));
    policies.seed([...live.values()]);
    live.delete("default");
    expect(policies.reconcile("default").requeueAfterMs).toBe(250);
    await clock.advance(1000);
    expect(policies.reconcile("default")).toEqual({});
    expect(journal.list()).toMatchObject([
      {
        type: "policy-changed",
        object: { name: "default" },
        diff: [{ path: "", op: "remove" }],
        message: "GuardPolicy default deleted by an unknown user (unattributed)",
      },
    ]);
    expect(journal.list()[0]?.user).toBeUndefined();
    expect(policies.reconcile("default")).toEqual({});
    expect(journal.count()).toBe(1);
  });

  it("journals, at start, what changed while no auditor ran, once", async () => {
    const first = setup();
    first.live.set("default", policy(1, ["ConfigMap"]));
    first.policies.seed([...first.live.values()]);
    first.live.set("default", policy(2, ["Secret"]));
    expect(first.policies.reconcile("default").requeueAfterMs).toBe(250);
    await first.clock.advance(1000);
    first.policies.reconcile("default");
    expect(first.journal.list().at(-1)?.object).toMatchObject({ generation: 2 });

    // Down while the policy moves to generation 4: the next start journals that it changed.
    first.live.set("default", policy(4, ["Pod"]));
    const second = setup(first);
    second.policies.seed([...second.live.values()]);
    expect(second.journal.list().at(-1)).toMatchObject({
      type: "policy-changed",
      object: { name: "default", generation: 4 },
      diff: [],
      fieldManagers: ["kubectl-edit (Update)"],
      message:
        "GuardPolicy default changed while no auditor was running (generation 2 to 4); who and which fields are not known",
    });
    const count = second.journal.count();
    setup(first).policies.seed([...first.live.values()]);
    expect(first.journal.count()).toBe(count);

    // Deleted, then created again with another uid, each while down.
    first.live.delete("default");
    setup(first).policies.seed([]);
    expect(first.journal.list().at(-1)).toMatchObject({
      diff: [{ path: "", op: "remove" }],
      message: "GuardPolicy default deleted while no auditor was running; who is not known",
    });
    first.live.set("default", policy(1, ["ConfigMap"], "p-2"));
    setup(first).policies.seed([...first.live.values()]);
    const created = first.journal.list().at(-1);
    expect(created?.message).toBe(
      "GuardPolicy default created while no auditor was running; who is not known",
    );
    expect(created?.diff?.map((c) => c.path)).toEqual(["/spec"]);
    expect(JSON.stringify(first.journal.list())).not.toContain(SLACK_URL);
  });

  it("takes the policies of a journal that never saw them as the baseline", () => {
    const { journal, live, policies } = setup();
    live.set("default", policy(3, ["ConfigMap"]));
    policies.seed([...live.values()]);
    expect(journal.count()).toBe(0);
  });
});
