import { describe, expect, it } from "vitest";
import { ErrorCodes, GuardError } from "../../src/errors.js";
import type { ObjectRef } from "../../src/kube/objects.js";
import type { AppliedObject } from "../../src/reconciler/apply/apply.js";
import { immutableRefusal } from "../../src/reconciler/apply/immutable.js";
import { blockingDependencies } from "../../src/reconciler/dependencies.js";
import type { GitSyncObject } from "../../src/reconciler/gitsync.js";
import { outcomeOf } from "../../src/reconciler/outcome.js";
import {
  healthDelay,
  nextAction,
  nextDelay,
  type SyncMemory,
} from "../../src/reconciler/schedule.js";
import { memoryAfter } from "../../src/reconciler/remember.js";
import { nextStatus, statusEqual } from "../../src/reconciler/status.js";
import type { SyncResult } from "../../src/reconciler/sync.js";
import { desiredOf, obj } from "./helpers/desired.js";

const NOW = Date.UTC(2026, 0, 1, 12);
const owner = { namespace: "apps", name: "app" };
const fetched = {
  commit: "c0ffee".padEnd(40, "0"),
  revision: `main@sha1:${"c0ffee".padEnd(40, "0")}`,
};
const health = { status: "Healthy" as const, unhealthy: [], total: 1, message: "1 object healthy" };

function gitSync(generation: number, extra: Partial<GitSyncObject> = {}): GitSyncObject {
  return {
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "GitSync",
    metadata: { name: "app", namespace: "apps", generation },
    ...extra,
  };
}

function synced(
  pruned: Partial<Extract<SyncResult, { kind: "synced" }>["pruned"]> = {},
): SyncResult {
  const desired = desiredOf([obj("v1", "ConfigMap", "a")]);
  const applied: AppliedObject[] = desired.map((d) => ({
    desired: d,
    live: d.object,
    action: "created",
    sent: "digest",
  }));
  return {
    kind: "synced",
    fetched,
    desired,
    applied,
    inventory: [],
    pruned: { deleted: [], kept: [], released: [], ...pruned },
    health,
  };
}

describe("status from a sync", () => {
  it("is Ready at the new revision, with the Flux-style change lines as an Event", () => {
    const outcome = outcomeOf(synced(), owner, 4);
    expect(outcome.status.ready).toEqual({
      status: "True",
      reason: "Synced",
      message: `applied revision ${fetched.revision}: 1 object`,
    });
    expect(outcome.status.lastAppliedRevision).toBe(fetched.revision);
    expect(outcome.events).toEqual([
      { type: "Normal", reason: "Synced", message: "ConfigMap/apps/a created" },
    ]);
    expect(outcome.complete).toBe(true);
  });

  it("is not Ready when the prune guard refused, and says how to approve that commit", () => {
    const outcome = outcomeOf(
      synced({ refused: "refusing to delete 3 of 3 objects (100%), more than 50%" }),
      owner,
      4,
    );
    expect(outcome.status.ready?.reason).toBe("PruneRefused");
    expect(outcome.status.ready?.message).toContain(
      `kubectl annotate gitsync app -n apps gitops-guard.io/prune-approved=${fetched.commit}`,
    );
    expect(outcome.status.lastAppliedRevision).toBeUndefined();
    expect(outcome.complete).toBe(false);
  });

  it("keeps the applied revision and Healthy of the last good sync on a failure", () => {
    const failure: SyncResult = {
      kind: "failed",
      stage: "source",
      reason: "GitUnreachable",
      error: new GuardError(ErrorCodes.GIT_UNREACHABLE, "the Git repository cannot be reached: x"),
      inventory: [],
      applied: [],
    };
    const outcome = outcomeOf(failure, owner, 5);
    const before = nextStatus(undefined, outcomeOf(synced(), owner, 4).status, NOW);
    const after = nextStatus(before, outcome.status, NOW + 60_000);
    expect(after.lastAppliedRevision).toBe(fetched.revision);
    expect(after.conditions?.find((c) => c.type === "Healthy")?.status).toBe("True");
    expect(after.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "GitUnreachable",
      observedGeneration: 5,
      lastTransitionTime: "2026-01-01T12:01:00Z",
    });
  });

  it("carries conditions of other types over, and detects an unchanged status", () => {
    const other = {
      type: "Reconciling",
      status: "False" as const,
      reason: "Idle",
      message: "",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    };
    const next = nextStatus({ conditions: [other] }, outcomeOf(synced(), owner, 1).status, NOW);
    expect(next.conditions?.map((c) => c.type)).toEqual(["Reconciling", "Ready", "Healthy"]);
    expect(statusEqual(next, nextStatus(next, { generation: 1 }, NOW + 1000))).toBe(true);
    expect(statusEqual(next, nextStatus(next, { generation: 2 }, NOW))).toBe(false);
  });

  it("leaves Drifted to self-heal: a sync's status neither carries nor compares it", () => {
    const drifted = {
      type: "Drifted",
      status: "True" as const,
      reason: "SelfHealDisabled",
      message: "ConfigMap ns/a differs from Git at /data/v",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    };
    const next = nextStatus({ conditions: [drifted] }, outcomeOf(synced(), owner, 1).status, NOW);
    expect(next.conditions?.map((c) => c.type)).toEqual(["Ready", "Healthy"]);
    const live = { ...next, conditions: [drifted, ...(next.conditions ?? [])] };
    expect(statusEqual(live, next)).toBe(true);
  });
});

describe("scheduling", () => {
  const timing = {
    healthPollMs: 2_000,
    waitRequeueMs: 3_000,
    dependencyRequeueMs: 30_000,
    retryBaseMs: 5_000,
  };
  const memory: SyncMemory = {
    generation: 1,
    requestedAt: undefined,
    pruneApproval: undefined,
    syncedAt: NOW,
    fetchedAt: NOW,
    complete: true,
    waiting: false,
    healthy: true,
    failures: 0,
  };

  it("fetches on a new generation, a sync request, an approval, a failure or the interval", () => {
    expect(nextAction(undefined, gitSync(1), 60_000, NOW)).toBe("sync");
    expect(nextAction(memory, gitSync(1), 60_000, NOW + 1000)).toBe("health");
    expect(nextAction(memory, gitSync(2), 60_000, NOW + 1000)).toBe("sync");
    const requested = gitSync(1, {
      metadata: {
        name: "app",
        generation: 1,
        annotations: { "gitops-guard.io/requested-at": "now" },
      },
    });
    expect(nextAction(memory, requested, 60_000, NOW + 1000)).toBe("sync");
    expect(nextAction({ ...memory, complete: false }, gitSync(1), 60_000, NOW + 1000)).toBe("sync");
    expect(nextAction(memory, gitSync(1), 60_000, NOW + 60_000)).toBe("sync");
  });

  it("resumes a waiting sync without fetching, until the interval since the fetch has passed", () => {
    const waiting = { ...memory, complete: false, waiting: true, syncedAt: NOW + 50_000 };
    expect(nextAction(waiting, gitSync(1), 60_000, NOW + 55_000)).toBe("resume");
    expect(nextAction(waiting, gitSync(1), 60_000, NOW + 60_000)).toBe("sync");
    expect(nextAction(waiting, gitSync(2), 60_000, NOW + 55_000)).toBe("sync");
  });

  it("remembers when Git was last fetched, and counts failures in a row", () => {
    const facts = {
      end: "waiting" as const,
      complete: false,
      healthy: false,
      now: NOW + 9_000,
      fetched: false,
    };
    expect(memoryAfter(gitSync(1), memory, facts)).toMatchObject({
      fetchedAt: NOW,
      syncedAt: NOW + 9_000,
      waiting: true,
    });
    const failed = { ...facts, end: "failed" as const, fetched: true };
    expect(memoryAfter(gitSync(1), { ...memory, failures: 2 }, failed)).toMatchObject({
      fetchedAt: NOW + 9_000,
      failures: 3,
    });
  });

  it("backs off failures up to the interval, polls health while progressing", () => {
    expect(nextDelay("failed", { ...memory, failures: 1 }, 600_000, timing)).toBe(5_000);
    expect(nextDelay("failed", { ...memory, failures: 4 }, 600_000, timing)).toBe(40_000);
    expect(nextDelay("failed", { ...memory, failures: 40 }, 600_000, timing)).toBe(600_000);
    expect(nextDelay("waiting", memory, 600_000, timing)).toBe(3_000);
    expect(nextDelay("synced", memory, 600_000, timing)).toBe(600_000);
    expect(nextDelay("synced", { ...memory, healthy: false }, 600_000, timing)).toBe(2_000);
    expect(healthDelay(memory, 600_000, NOW + 100_000, timing)).toBe(500_000);
    expect(healthDelay({ ...memory, healthy: false }, 600_000, NOW + 100_000, timing)).toBe(2_000);
  });
});

describe("dependsOn", () => {
  const ready = (generation: number, observed: number, healthy: "True" | "False"): GitSyncObject =>
    gitSync(generation, {
      status: {
        conditions: [
          {
            type: "Ready",
            status: "True",
            reason: "Synced",
            message: "",
            observedGeneration: observed,
            lastTransitionTime: "",
          },
          {
            type: "Healthy",
            status: healthy,
            reason: "Progressing",
            message: "Deployment apps/db: 0 of 1 replicas updated",
            lastTransitionTime: "",
          },
        ],
      },
    });

  it("waits for a dependency that is missing, not Ready for its generation, or not Healthy", () => {
    const deps = [{ namespace: "infra", name: "db" }];
    expect(blockingDependencies(deps, () => undefined)).toBe(
      "waiting for GitSync infra/db does not exist",
    );
    expect(blockingDependencies(deps, () => ready(2, 1, "True"))).toBe(
      "waiting for GitSync infra/db is not Ready (Synced)",
    );
    expect(blockingDependencies(deps, () => ready(2, 2, "False"))).toBe(
      "waiting for GitSync infra/db is not Healthy (Deployment apps/db: 0 of 1 replicas updated)",
    );
    expect(blockingDependencies(deps, () => ready(2, 2, "True"))).toBeUndefined();
  });
});

describe("immutable-field refusals", () => {
  const ref = (kind: string): ObjectRef => ({
    apiVersion: "v1",
    kind,
    namespace: "apps",
    name: "x",
  });

  it("names the field from the Status causes and the migration for the kind", () => {
    const job = immutableRefusal(ref("Job"), {
      status: 422,
      reason: "Invalid",
      message:
        'Job.batch "x" is invalid: spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable',
      causes: [
        {
          reason: "FieldValueInvalid",
          field: "spec.template",
          message: "Invalid value: ...: field is immutable",
        },
      ],
    });
    expect(job?.field).toBe("spec.template");
    expect(job?.migration).toContain("give the Job a new name in Git");
    const sts = immutableRefusal(ref("StatefulSet"), {
      status: 422,
      reason: "Invalid",
      message:
        "StatefulSet.apps \"x\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      causes: [
        { reason: "FieldValueForbidden", field: "spec", message: "Forbidden: updates to ..." },
      ],
    });
    expect(sts?.field).toBe("spec");
    expect(sts?.migration).toContain("kubectl delete statefulset x -n apps --cascade=orphan");
  });

  it("ignores errors that are not about immutability", () => {
    expect(
      immutableRefusal(ref("ConfigMap"), {
        status: 422,
        message: 'ConfigMap "x" is invalid: metadata.name: Invalid value',
      }),
    ).toBeUndefined();
    // An invalid value inside a Job's template, on a Job whose name says "immutable": the
    // causes decide, not the text.
    expect(
      immutableRefusal(
        { ...ref("Job"), name: "immutable-report" },
        {
          status: 422,
          reason: "Invalid",
          message: 'Job.batch "immutable-report" is invalid: field is immutable-ish',
          causes: [
            {
              reason: "FieldValueRequired",
              field: "spec.template.spec.containers[0].image",
              message: "Required value",
            },
          ],
        },
      ),
    ).toBeUndefined();
    expect(
      immutableRefusal(ref("Job"), { status: 409, message: "field is immutable" }),
    ).toBeUndefined();
  });
});
