// Workloads really run in the test control plane: the real kube-scheduler binds Pods to the fake
// Nodes, kwok starts them (kwok-stages.yaml), and the real workload controllers in
// kube-controller-manager turn that into Deployment, Job, StatefulSet and DaemonSet status.
import { describe, expect, it } from "vitest";
import type { KubeClient } from "../../src/kube/client.js";
import type { KubeObject, ObjectRef } from "../../src/kube/objects.js";
import { clientAs, envtest, eventually, testNamespace } from "./context.js";
import { CRASHLOOP_IMAGE_MARKER } from "./workloads.js";

interface Condition {
  type: string;
  status: string;
  reason?: string;
}

type Workload = KubeObject & {
  status?: {
    readyReplicas?: number;
    availableReplicas?: number;
    succeeded?: number;
    numberReady?: number;
    desiredNumberScheduled?: number;
    conditions?: Condition[];
  };
};

type Pod = KubeObject & {
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Condition[];
    containerStatuses?: { restartCount: number }[];
  };
};

type Event = KubeObject & { reason?: string; reportingComponent?: string; source?: object };

const DEPLOYMENT = { apiVersion: "apps/v1", kind: "Deployment" } as const;
const JOB = { apiVersion: "batch/v1", kind: "Job" } as const;
const POD = { apiVersion: "v1", kind: "Pod" } as const;

function podTemplate(app: string, image: string, restartPolicy?: string): object {
  return {
    metadata: { labels: { app } },
    spec: {
      ...(restartPolicy === undefined ? {} : { restartPolicy }),
      containers: [{ name: app, image }],
    },
  };
}

function deployment(
  namespace: string,
  name: string,
  spec: { replicas: number; image?: string; progressDeadlineSeconds?: number },
): KubeObject {
  const { image = "registry.example/web:1", ...rest } = spec;
  return {
    ...DEPLOYMENT,
    metadata: { name, namespace },
    spec: { selector: { matchLabels: { app: name } }, template: podTemplate(name, image), ...rest },
  };
}

function job(namespace: string, name: string, image: string): KubeObject {
  return {
    ...JOB,
    metadata: { name, namespace },
    spec: { backoffLimit: 0, template: podTemplate(name, image, "Never") },
  };
}

const condition = (obj: { status?: { conditions?: Condition[] } } | undefined, type: string) =>
  obj?.status?.conditions?.find((c) => c.type === type);

async function podsOf(admin: KubeClient, namespace: string, app: string): Promise<Pod[]> {
  return (await admin.list<Pod>(POD, { namespace, labelSelector: `app=${app}` })).items;
}

/** Waits until the object's status satisfies check(); resolves with the object. */
async function waitFor<T extends KubeObject>(
  admin: KubeClient,
  ref: ObjectRef,
  what: string,
  check: (obj: T) => boolean,
): Promise<T> {
  let live: T | undefined;
  await eventually(
    `${ref.kind} ${ref.name} ${what}`,
    async () => {
      live = await admin.get<T>(ref);
      return live !== undefined && check(live);
    },
    60_000,
  );
  if (live === undefined) throw new Error("unreachable");
  return live;
}

describe("Pods run on fake Nodes in the test control plane", () => {
  it("makes a Deployment of 3 Available, its Pods bound by the real scheduler, and removes Pods it scales away", async () => {
    const admin = clientAs("admin");
    const namespace = await testNamespace("wl");
    await admin.create(deployment(namespace, "web", { replicas: 3 }));
    await waitFor<Workload>(
      admin,
      { ...DEPLOYMENT, namespace, name: "web" },
      "to be Available",
      (d) =>
        d.status?.readyReplicas === 3 &&
        d.status.availableReplicas === 3 &&
        condition(d, "Available")?.status === "True",
    );
    const pods = await podsOf(admin, namespace, "web");
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(envtest().nodes).toContain(pod.spec.nodeName);
      expect(condition(pod, "PodScheduled")?.status).toBe("True");
      expect(condition(pod, "Ready")?.status).toBe("True");
      expect(pod.status?.phase).toBe("Running");
      expect(pod.status?.podIP).toMatch(/^10\.244\./);
    }
    // The binding came from kube-scheduler itself: it reports each one as a Scheduled event.
    await eventually("a Scheduled event from the scheduler for each Pod", async () => {
      const events = await admin.list<Event>({ apiVersion: "v1", kind: "Event" }, { namespace });
      const scheduled = events.items.filter(
        (e) => e.reason === "Scheduled" && e.reportingComponent === "default-scheduler",
      );
      return scheduled.length >= 3;
    });

    await admin.mergePatch({ ...DEPLOYMENT, namespace, name: "web" }, { spec: { replicas: 1 } });
    await eventually("the scaled-away Pods to be gone", async () => {
      return (await podsOf(admin, namespace, "web")).length === 1;
    });
  });

  it("runs a Job to completion, and fails one whose container crashes", async () => {
    const admin = clientAs("admin");
    const namespace = await testNamespace("wl");
    await admin.create(job(namespace, "migrate", "registry.example/migrate:1"));
    await admin.create(
      job(namespace, "broken", `registry.example/migrate:${CRASHLOOP_IMAGE_MARKER}`),
    );
    const done = await waitFor<Workload>(
      admin,
      { ...JOB, namespace, name: "migrate" },
      "to complete",
      (j) => condition(j, "Complete")?.status === "True",
    );
    expect(done.status?.succeeded).toBe(1);
    expect((await podsOf(admin, namespace, "migrate")).map((p) => p.status?.phase)).toEqual([
      "Succeeded",
    ]);
    const failed = await waitFor<Workload>(
      admin,
      { ...JOB, namespace, name: "broken" },
      "to fail",
      (j) => condition(j, "Failed")?.status === "True",
    );
    expect(condition(failed, "Failed")?.reason).toBe("BackoffLimitExceeded");
  });

  it("makes a StatefulSet of 2 and a DaemonSet (one Pod per fake Node) ready", async () => {
    const admin = clientAs("admin");
    const namespace = await testNamespace("wl");
    const selector = (app: string) => ({ matchLabels: { app } });
    await admin.create({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace },
      spec: {
        replicas: 2,
        serviceName: "db",
        selector: selector("db"),
        template: podTemplate("db", "registry.example/db:1"),
      },
    });
    await admin.create({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace },
      spec: {
        selector: selector("agent"),
        template: podTemplate("agent", "registry.example/agent:1"),
      },
    });
    await waitFor<Workload>(
      admin,
      { apiVersion: "apps/v1", kind: "StatefulSet", namespace, name: "db" },
      "to have 2 ready replicas",
      (s) => s.status?.readyReplicas === 2,
    );
    const nodes = envtest().nodes.length;
    expect(nodes).toBeGreaterThan(0);
    await waitFor<Workload>(
      admin,
      { apiVersion: "apps/v1", kind: "DaemonSet", namespace, name: "agent" },
      `to be ready on all ${nodes} Nodes`,
      (d) => d.status?.desiredNumberScheduled === nodes && d.status.numberReady === nodes,
    );
    const onNodes = (await podsOf(admin, namespace, "agent")).map((p) => p.spec.nodeName).sort();
    expect(onNodes).toEqual([...envtest().nodes].sort());
  });

  it("never makes a Pod with a crashloop image Ready, so its Deployment exceeds its progress deadline", async () => {
    const admin = clientAs("admin");
    const namespace = await testNamespace("wl");
    await admin.create(
      deployment(namespace, "bad", {
        replicas: 1,
        progressDeadlineSeconds: 10,
        image: `registry.example/app:${CRASHLOOP_IMAGE_MARKER}`,
      }),
    );
    const stuck = await waitFor<Workload>(
      admin,
      { ...DEPLOYMENT, namespace, name: "bad" },
      "to exceed its progress deadline",
      (d) => condition(d, "Progressing")?.reason === "ProgressDeadlineExceeded",
    );
    expect(condition(stuck, "Progressing")?.status).toBe("False");
    expect(stuck.status?.readyReplicas).toBeUndefined();
    const pods = await podsOf(admin, namespace, "bad");
    expect(pods).toMatchObject([
      {
        status: {
          phase: "Running",
          containerStatuses: [{ ready: false, state: { waiting: { reason: "CrashLoopBackOff" } } }],
        },
      },
    ]);
    expect(condition(pods[0], "Ready")?.status).toBe("False");
    expect(pods[0]?.status?.containerStatuses?.[0]?.restartCount).toBeGreaterThanOrEqual(1);
  });
});
