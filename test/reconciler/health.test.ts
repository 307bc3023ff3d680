import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { summarizeHealth } from "../../src/reconciler/health/aggregate.js";
import { healthOf, needsLiveHealth } from "../../src/reconciler/health/rules.js";

function live(
  kind: string,
  parts: { generation?: number; spec?: object; status?: object; apiVersion?: string },
): KubeObject {
  return {
    apiVersion: parts.apiVersion ?? "apps/v1",
    kind,
    metadata: {
      name: "x",
      namespace: "ns",
      ...(parts.generation === undefined ? {} : { generation: parts.generation }),
    },
    ...(parts.spec === undefined ? {} : { spec: parts.spec }),
    ...(parts.status === undefined ? {} : { status: parts.status }),
  };
}

const cond = (type: string, status: string, reason = ""): object => ({
  type,
  status,
  reason,
  message: `${type} ${reason}`,
});

describe("health rules", () => {
  it("Deployment: waits for the controller, its replicas, and fails on a progress deadline", () => {
    const dep = (status: object, spec: object = { replicas: 2 }): KubeObject =>
      live("Deployment", { generation: 3, spec, status });
    expect(healthOf(dep({ observedGeneration: 2 })).status).toBe("Progressing");
    expect(healthOf(dep({ observedGeneration: 3, updatedReplicas: 1, replicas: 1 })).message).toBe(
      "1 of 2 replicas updated",
    );
    expect(healthOf(dep({ observedGeneration: 3, updatedReplicas: 2, replicas: 3 })).message).toBe(
      "1 old replicas pending termination",
    );
    expect(
      healthOf(
        dep({ observedGeneration: 3, updatedReplicas: 2, replicas: 2, availableReplicas: 1 }),
      ).status,
    ).toBe("Progressing");
    expect(
      healthOf(
        dep({ observedGeneration: 3, updatedReplicas: 2, replicas: 2, availableReplicas: 2 }),
      ).status,
    ).toBe("Healthy");
    expect(
      healthOf(
        dep({
          observedGeneration: 3,
          conditions: [cond("Progressing", "False", "ProgressDeadlineExceeded")],
        }),
      ).status,
    ).toBe("Degraded");
    // Zero replicas: healthy as soon as the controller has observed the spec (what envtest can show).
    expect(healthOf(dep({ observedGeneration: 3 }, { replicas: 0 })).status).toBe("Healthy");
    expect(healthOf(dep({}, { replicas: 2, paused: true })).status).toBe("Healthy");
  });

  it("StatefulSet: ready replicas, partitioned rollouts and revisions; OnDelete is healthy; never Degraded", () => {
    const sts = (status: object, spec: object = { replicas: 3 }): KubeObject =>
      live("StatefulSet", { generation: 1, spec, status });
    const base = {
      observedGeneration: 1,
      readyReplicas: 3,
      currentRevision: "r1",
      updateRevision: "r1",
    };
    expect(healthOf(sts({ ...base, readyReplicas: 2 })).message).toBe("2 of 3 replicas ready");
    expect(healthOf(sts({ ...base, updateRevision: "r2" })).status).toBe("Progressing");
    expect(healthOf(sts(base)).status).toBe("Healthy");
    const partitioned = {
      replicas: 3,
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } },
    };
    expect(
      healthOf(sts({ ...base, updateRevision: "r2", updatedReplicas: 0 }, partitioned)).status,
    ).toBe("Progressing");
    expect(
      healthOf(sts({ ...base, updateRevision: "r2", updatedReplicas: 1 }, partitioned)).status,
    ).toBe("Healthy");
    expect(
      healthOf(
        sts({ observedGeneration: 1 }, { replicas: 3, updateStrategy: { type: "OnDelete" } }),
      ).status,
    ).toBe("Healthy");
  });

  it("DaemonSet: every scheduled pod updated and available", () => {
    const ds = (status: object): KubeObject =>
      live("DaemonSet", { generation: 1, spec: {}, status: { observedGeneration: 1, ...status } });
    expect(
      healthOf(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3 }))
        .message,
    ).toBe("2 of 3 pods updated");
    expect(
      healthOf(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1 }))
        .status,
    ).toBe("Progressing");
    expect(
      healthOf(ds({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }))
        .status,
    ).toBe("Healthy");
  });

  it("Job: Complete is healthy, Failed is Degraded, running and suspended progress", () => {
    const job = (conditions: object[]): KubeObject =>
      live("Job", { apiVersion: "batch/v1", status: { conditions } });
    expect(healthOf(job([cond("Complete", "True")])).status).toBe("Healthy");
    expect(healthOf(job([cond("Failed", "True", "BackoffLimitExceeded")])).status).toBe("Degraded");
    expect(healthOf(job([cond("Failed", "True", "BackoffLimitExceeded")])).message).toContain(
      "BackoffLimitExceeded",
    );
    expect(healthOf(job([cond("Suspended", "True")])).message).toBe("job is suspended");
    expect(healthOf(job([])).status).toBe("Progressing");
  });

  it("PVC, Service, Ingress, CRD and Namespace", () => {
    const v1 = (kind: string, spec: object, status: object): KubeObject =>
      live(kind, { apiVersion: "v1", spec, status });
    expect(healthOf(v1("PersistentVolumeClaim", {}, { phase: "Bound" })).status).toBe("Healthy");
    expect(healthOf(v1("PersistentVolumeClaim", {}, { phase: "Pending" })).message).toBe(
      "claim is Pending",
    );
    expect(healthOf(v1("PersistentVolumeClaim", {}, { phase: "Lost" })).status).toBe("Degraded");
    expect(healthOf(v1("Service", { type: "ClusterIP" }, {})).status).toBe("Healthy");
    expect(healthOf(v1("Service", { type: "LoadBalancer" }, {})).status).toBe("Progressing");
    expect(
      healthOf(
        v1(
          "Service",
          { type: "LoadBalancer" },
          { loadBalancer: { ingress: [{ ip: "10.0.0.9" }] } },
        ),
      ).status,
    ).toBe("Healthy");
    expect(healthOf(v1("Ingress", {}, {})).status).toBe("Progressing");
    expect(
      healthOf(v1("Ingress", {}, { loadBalancer: { ingress: [{ hostname: "lb" }] } })).status,
    ).toBe("Healthy");
    expect(
      healthOf(v1("CustomResourceDefinition", {}, { conditions: [cond("Established", "True")] }))
        .status,
    ).toBe("Healthy");
    expect(
      healthOf(v1("CustomResourceDefinition", {}, { conditions: [cond("NamesAccepted", "False")] }))
        .status,
    ).toBe("Degraded");
    expect(healthOf(v1("CustomResourceDefinition", {}, {})).status).toBe("Progressing");
    expect(healthOf(v1("Namespace", {}, { phase: "Active" })).status).toBe("Healthy");
    expect(healthOf(v1("Namespace", {}, { phase: "Terminating" })).status).toBe("Progressing");
  });

  it("other kinds: generation lag, Ready=False and Stalled=True count; no status is healthy", () => {
    const cr = (generation: number, status?: object): KubeObject =>
      live("Widget", {
        apiVersion: "example.com/v1",
        generation,
        ...(status === undefined ? {} : { status }),
      });
    expect(healthOf(cr(1)).status).toBe("Healthy");
    expect(healthOf(cr(2, { observedGeneration: 1 })).status).toBe("Progressing");
    expect(healthOf(cr(1, { conditions: [cond("Ready", "False")] })).status).toBe("Progressing");
    expect(healthOf(cr(1, { conditions: [cond("Stalled", "True")] })).status).toBe("Degraded");
    expect(
      healthOf({ ...cr(1), metadata: { name: "x", deletionTimestamp: "2026-01-01T00:00:00Z" } })
        .message,
    ).toBe("being deleted");
  });

  it("reads live state only for kinds whose status moves", () => {
    expect(needsLiveHealth("ConfigMap")).toBe(false);
    expect(needsLiveHealth("ClusterRoleBinding")).toBe(false);
    expect(needsLiveHealth("Deployment")).toBe(true);
    expect(needsLiveHealth("Widget")).toBe(true);
  });
});

describe("health summary", () => {
  const ref = (
    kind: string,
    name: string,
  ): { apiVersion: string; kind: string; namespace: string; name: string } => ({
    apiVersion: "v1",
    kind,
    namespace: "ns",
    name,
  });

  it("is as bad as the worst object and names the first culprits", () => {
    const summary = summarizeHealth([
      { ref: ref("ConfigMap", "a"), health: { status: "Healthy", message: "" } },
      {
        ref: ref("Deployment", "web"),
        health: { status: "Progressing", message: "0 of 1 replicas updated" },
      },
      { ref: ref("Job", "migrate"), health: { status: "Degraded", message: "job failed" } },
    ]);
    expect(summary.status).toBe("Degraded");
    expect(summary.message).toBe(
      "2 of 3 objects not healthy: Job ns/migrate: job failed; Deployment ns/web: 0 of 1 replicas updated",
    );
  });

  it("caps the list of culprits", () => {
    const many = Array.from({ length: 8 }, (_, i) => ({
      ref: ref("Deployment", `d${i}`),
      health: { status: "Progressing" as const, message: "wait" },
    }));
    expect(summarizeHealth(many).message).toMatch(/8 of 8 objects not healthy: .*\(and 3 more\)$/);
    expect(summarizeHealth([]).message).toBe("0 objects healthy");
    expect(
      summarizeHealth([{ ref: ref("ConfigMap", "a"), health: { status: "Healthy", message: "" } }])
        .message,
    ).toBe("1 object healthy");
  });
});
