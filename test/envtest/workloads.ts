// Workloads that really run in the test control plane: the real kube-scheduler binds Pods to fake
// Nodes, and kwok plays the Nodes' kubelets through the stages in kwok-stages.yaml (Pods start and
// become Ready, Job Pods complete, Pods with a "crashloop" image never become Ready, deleted
// Pods go away). kube-controller-manager's node-lifecycle-controller lifts the not-ready taint
// that the API server puts on every new Node, and watches the Leases kwok renews.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { Binaries } from "./binaries.js";
import { kubectl } from "./bootstrap.js";
import { kubeconfigYaml } from "./kubeconfig.js";
import { makeClientCert, type CertPair } from "./pki.js";
import { startProcess, waitFor, type ManagedProcess } from "./processes.js";

/** Three Nodes of 400 Pods each: room for a 1,000-Pod benchmark. */
export const FAKE_NODES = ["kwok-node-0", "kwok-node-1", "kwok-node-2"] as const;
export const FAKE_NODE_CAPACITY = {
  cpu: "32",
  memory: "256Gi",
  pods: "400",
  "ephemeral-storage": "1Ti",
} as const;
/** The annotation kwok selects the Nodes it plays by, and the label tests can select them by. */
export const FAKE_NODE_ANNOTATION = { "kwok.x-k8s.io/node": "fake" } as const;
export const FAKE_NODE_LABEL = { type: "kwok" } as const;
/** A container whose image contains this never becomes Ready (see kwok-stages.yaml). */
export const CRASHLOOP_IMAGE_MARKER = "crashloop";

const STAGES = fileURLToPath(new URL("./kwok-stages.yaml", import.meta.url));
const selector = (pairs: Readonly<Record<string, string>>): string =>
  Object.entries(pairs)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
const KWOK_USER = "kwok";

export interface WorkloadsOptions {
  readonly bin: Binaries;
  readonly dir: string;
  readonly apiServerUrl: string;
  readonly ca: CertPair;
  /** The admin kubeconfig, to register the Nodes and check the result. */
  readonly admin: string;
  /** Every process started is pushed here at once, so the caller stops it even on a failure. */
  readonly procs: ManagedProcess[];
}

function writeKubeconfig(opts: WorkloadsOptions, name: string, client: CertPair): string {
  const path = join(opts.dir, `${name}.kubeconfig`);
  writeFileSync(
    path,
    kubeconfigYaml({ name, server: opts.apiServerUrl, caCert: opts.ca.cert, clientCert: client }),
    { mode: 0o600 },
  );
  return path;
}

/** kube-scheduler as system:kube-scheduler (the bootstrap RBAC role), no leader election. */
function startScheduler(opts: WorkloadsOptions): ManagedProcess {
  const kubeconfig = writeKubeconfig(
    opts,
    "kube-scheduler",
    makeClientCert(opts.ca, { user: "system:kube-scheduler", groups: [] }),
  );
  const config = join(opts.dir, "kube-scheduler.yaml");
  writeFileSync(
    config,
    stringify({
      apiVersion: "kubescheduler.config.k8s.io/v1",
      kind: "KubeSchedulerConfiguration",
      // Above the default 50/100, so that a thousand Pods are bound in seconds.
      clientConnection: { kubeconfig, qps: 200, burst: 400 },
      leaderElection: { leaderElect: false },
    }),
  );
  return startProcess({
    name: "kube-scheduler",
    binary: opts.bin.kubeScheduler,
    logFile: join(opts.dir, "kube-scheduler.log"),
    args: [`--config=${config}`, "--secure-port=0", "--v=0"],
  });
}

function node(name: string, index: number): object {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { ...FAKE_NODE_ANNOTATION, "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        ...FAKE_NODE_LABEL,
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
      },
    },
    spec: { podCIDR: `10.244.${index * 4}.0/22`, podCIDRs: [`10.244.${index * 4}.0/22`] },
    status: {
      capacity: FAKE_NODE_CAPACITY,
      allocatable: FAKE_NODE_CAPACITY,
      addresses: [
        { type: "InternalIP", address: `10.240.0.${10 + index}` },
        { type: "Hostname", address: name },
      ],
    },
  };
}

const KWOK_RULES = [
  { apiGroups: [""], resources: ["nodes", "pods"], verbs: ["get", "list", "watch"] },
  { apiGroups: [""], resources: ["nodes/status", "pods/status"], verbs: ["patch", "update"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
  { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch", "update"] },
  {
    apiGroups: ["coordination.k8s.io"],
    resources: ["leases"],
    verbs: ["get", "list", "watch", "create", "update", "patch"],
  },
];

/**
 * The Nodes, and kwok's right to act as their kubelets: what a kubelet does to Nodes, Pods,
 * their status, Leases and Events (the system:node role, plus listing Leases, which kwok
 * watches for all its Nodes at once), as a user in the system:nodes group as kubelets are.
 */
async function registerNodes(opts: WorkloadsOptions): Promise<void> {
  const file = join(opts.dir, "kwok-nodes.json");
  const rbac = "rbac.authorization.k8s.io";
  const role = {
    apiVersion: `${rbac}/v1`,
    kind: "ClusterRole",
    metadata: { name: "envtest-kwok" },
  };
  const binding = {
    apiVersion: `${rbac}/v1`,
    kind: "ClusterRoleBinding",
    metadata: { name: "envtest-kwok" },
    roleRef: { apiGroup: rbac, kind: "ClusterRole", name: "envtest-kwok" },
    subjects: [{ apiGroup: rbac, kind: "User", name: KWOK_USER }],
  };
  const items = [{ ...role, rules: KWOK_RULES }, binding, ...FAKE_NODES.map(node)];
  writeFileSync(file, JSON.stringify({ apiVersion: "v1", kind: "List", items }));
  await kubectl(opts.bin, opts.admin, ["create", "-f", file]);
}

function startKwok(opts: WorkloadsOptions): ManagedProcess {
  const kubeconfig = writeKubeconfig(
    opts,
    "kwok",
    makeClientCert(opts.ca, { user: KWOK_USER, groups: ["system:nodes"] }),
  );
  const config = join(opts.dir, "kwok.yaml");
  // kwok applies no defaults to a KwokConfiguration read from a file: every option is here.
  const options = {
    manageAllNodes: false,
    manageNodesWithAnnotationSelector: selector(FAKE_NODE_ANNOTATION),
    // Leases in kube-node-lease, renewed every 10 s, are the Nodes' heartbeat.
    nodeLeaseDurationSeconds: 40,
    nodeLeaseParallelism: 4,
    cidr: "10.244.0.0/16",
    // Above the default 4, so that a thousand Pods start in seconds.
    podPlayStageParallelism: 16,
    nodePlayStageParallelism: 4,
    podsOnNodeSyncParallelism: 1,
    enablePodsOnNodeSyncListPager: true,
    enablePodsOnNodeSyncStreamWatch: false,
    // No kwok server (exec, logs, port-forward, metrics): none is listening.
    enableDebuggingHandlers: false,
    enableProfilingHandler: false,
    enableContentionProfiling: false,
  };
  const kind = { apiVersion: "config.kwok.x-k8s.io/v1alpha1", kind: "KwokConfiguration" };
  writeFileSync(config, stringify({ ...kind, options }));
  return startProcess({
    name: "kwok",
    // env: a work folder of its own, so a ~/.kwok/kwok.yaml of the user's adds no stages.
    binary: "env",
    logFile: join(opts.dir, "kwok.log"),
    args: [
      `KWOK_WORKDIR=${join(opts.dir, "kwok")}`,
      opts.bin.kwok,
      `--kubeconfig=${kubeconfig}`,
      `--config=${config}`,
      `--config=${STAGES}`,
    ],
  });
}

interface NodeList {
  items: {
    spec?: { taints?: { key: string; effect: string }[] };
    status?: { conditions?: { type: string; status: string }[] };
  }[];
}

async function nodesSchedulable(opts: WorkloadsOptions): Promise<boolean> {
  const list = JSON.parse(
    await kubectl(opts.bin, opts.admin, [
      "get",
      "nodes",
      "-l",
      selector(FAKE_NODE_LABEL),
      "-o",
      "json",
    ]),
  ) as NodeList;
  const schedulable = list.items.filter(
    (n) =>
      n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true &&
      (n.spec?.taints ?? []).length === 0,
  );
  return schedulable.length === FAKE_NODES.length;
}

const PROBE = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "envtest-workloads-probe", namespace: "kube-system" },
  spec: {
    automountServiceAccountToken: false,
    containers: [{ name: "probe", image: "registry.example/probe:1" }],
  },
};

/** One Pod through the whole path: scheduled, started and Ready, then deleted. */
async function probe(opts: WorkloadsOptions, procs: readonly ManagedProcess[]): Promise<void> {
  const file = join(opts.dir, "workloads-probe.json");
  writeFileSync(file, JSON.stringify(PROBE));
  const { name, namespace } = PROBE.metadata;
  await kubectl(opts.bin, opts.admin, ["create", "-f", file]);
  const ready = async (): Promise<boolean> => {
    const pod = JSON.parse(
      await kubectl(opts.bin, opts.admin, ["get", "pod", name, "-n", namespace, "-o", "json"]),
    ) as { status?: { conditions?: { type: string; status: string }[] } };
    return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  };
  await waitFor("a probe Pod to be scheduled and Ready", ready, {
    timeoutMs: 60_000,
    process: procs,
    logFile: join(opts.dir, "{kube-scheduler,kwok}.log"),
  });
  await kubectl(opts.bin, opts.admin, ["delete", "-f", file, "--wait=true", "--timeout=60s"]);
}

/** Starts kube-scheduler and kwok, registers the fake Nodes; resolves with their names. */
export async function startWorkloads(opts: WorkloadsOptions): Promise<readonly string[]> {
  const scheduler = startScheduler(opts);
  opts.procs.push(scheduler);
  await registerNodes(opts);
  const kwok = startKwok(opts);
  opts.procs.push(kwok);
  await waitFor("the fake Nodes to be Ready and untainted", () => nodesSchedulable(opts), {
    timeoutMs: 60_000,
    process: kwok,
    logFile: join(opts.dir, "kwok.log"),
  });
  await probe(opts, [scheduler, kwok]);
  return FAKE_NODES;
}
