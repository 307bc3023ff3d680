/**
 * The product as the README installs it out of a cluster, on a control plane of this test's own
 * that no test bootstrap touched (no audit webhook, no test identities, no test RBAC): the CRDs
 * and the chart's service accounts and RBAC applied with kubectl, then `gitops-guard run` with
 * all four components as a process of its own. A platform admin the GuardPolicy exempts makes 20
 * out-of-band edits; self-heal undoes each, and every journal record names her, from admission.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JournalRecord } from "../src/auditor/journal/record.js";
import { helm, REPO_ROOT } from "./chart/helm.js";
import { ensureBinaries, type Binaries } from "./envtest/binaries.js";
import { startEtcdAndApiServer } from "./envtest/control-plane.js";
import { kubeconfigYaml } from "./envtest/kubeconfig.js";
import { makeClientCert } from "./envtest/pki.js";
import { eventually } from "./envtest/context.js";
import { freePort, type ManagedProcess } from "./envtest/processes.js";
import {
  auditedConfigMaps,
  journalIn,
  startGuard,
  type GuardProcess,
} from "./helpers/guard-process.js";
import { GitRepo } from "./reconciler/helpers/git-repo.js";
import { configMap, yaml } from "./reconciler/helpers/manifests.js";

const exec = promisify(execFile);
const TEAM = "team";
const NAMES = Array.from({ length: 20 }, (_, i) => `setting-${String(i)}`);
// The chart's templates that hold service accounts and RBAC, as the README lists them.
const RBAC_TEMPLATES = [
  "serviceaccounts",
  "rbac-controller",
  "rbac-reconciler",
  "rbac-secrets",
  "rbac-webhook",
  "rbac-ops",
];

interface Cluster {
  readonly dir: string;
  readonly bin: Binaries;
  readonly admin: string;
  readonly dana: string;
  readonly procs: ManagedProcess[];
}

let cluster: Cluster;

async function kubectl(
  kubeconfig: string,
  args: readonly string[],
  stdin?: string,
): Promise<string> {
  const child = exec(cluster.bin.kubectl, [`--kubeconfig=${kubeconfig}`, ...args], {
    encoding: "utf8",
  });
  if (stdin !== undefined) child.child.stdin?.end(stdin);
  return (await child).stdout;
}

/** etcd and kube-apiserver only, with an admin and dana (a platform admin) as client certs. */
async function bareControlPlane(): Promise<Cluster> {
  const bin = ensureBinaries();
  const dir = mkdtempSync(join(tmpdir(), "gg-out-of-cluster-"));
  const procs: ManagedProcess[] = [];
  const {
    pki,
    port,
    admin: adminCert,
  } = await startEtcdAndApiServer(bin, dir, procs, "cluster-admin");
  const base = { server: `https://127.0.0.1:${String(port)}`, caCert: pki.ca.cert };
  const write = (name: string, content: string): string => {
    const path = join(dir, `${name}.kubeconfig`);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const dana = makeClientCert(pki.ca, { user: "dana", groups: ["platform-admins"] });
  return {
    dir,
    bin,
    admin: write("admin", kubeconfigYaml({ ...base, name: "admin", clientCert: adminCert })),
    dana: write("dana", kubeconfigYaml({ ...base, name: "dana", clientCert: dana })),
    procs,
  };
}

/** README, "Running the service": the CRDs, then the chart's service accounts and RBAC. */
async function installAsReadmeSays(): Promise<void> {
  await kubectl(cluster.admin, ["apply", "-f", join(REPO_ROOT, "crds")]);
  await kubectl(cluster.admin, ["wait", "--for=condition=Established", "crd", "--all"]);
  await kubectl(cluster.admin, ["create", "namespace", "gitops-guard-system"]);
  const rendered = helm([
    "template",
    "gitops-guard",
    join(REPO_ROOT, "charts/gitops-guard"),
    "-n",
    "gitops-guard-system",
    ...RBAC_TEMPLATES.flatMap((t) => ["-s", `templates/${t}.yaml`]),
  ]);
  expect(rendered.status, rendered.stderr).toBe(0);
  await kubectl(cluster.admin, ["apply", "-f", "-"], rendered.stdout);
}

/** dana may edit ConfigMaps in the team namespace; the GuardPolicy exempts her. */
async function teamAndPolicy(): Promise<void> {
  await kubectl(cluster.admin, ["create", "namespace", TEAM]);
  await kubectl(cluster.admin, [
    "create",
    "role",
    "configmap-editor",
    "-n",
    TEAM,
    "--verb=get,list,create,patch,update",
    "--resource=configmaps",
  ]);
  await kubectl(cluster.admin, [
    "create",
    "rolebinding",
    "dana-edits",
    "-n",
    TEAM,
    "--role=configmap-editor",
    "--user=dana",
  ]);
  await kubectl(
    cluster.admin,
    ["apply", "-f", "-"],
    yaml({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GuardPolicy",
      metadata: { name: "git-only" },
      spec: {
        match: { resources: [{ apiGroups: [""], kinds: ["ConfigMap"] }] },
        exemptions: { groups: ["platform-admins"] },
      },
    }),
  );
}

async function gitSync(repo: GitRepo): Promise<void> {
  await kubectl(
    cluster.admin,
    ["apply", "-f", "-"],
    yaml({
      apiVersion: "gitops-guard.io/v1alpha1",
      kind: "GitSync",
      metadata: { name: "team", namespace: "gitops-guard-system" },
      spec: { url: repo.url, ref: { branch: "main" }, interval: "10m", selfHeal: true },
    }),
  );
}

/**
 * The API server calls the webhook: dana's write to a marker ConfigMap (guarded, in no GitSync,
 * so never drift) has become a fact Event. Until then an edit could pass unjudged.
 */
async function webhookInForce(): Promise<void> {
  let n = 0;
  await eventually(
    "the webhook to make a fact of dana's write",
    async () => {
      n += 1;
      await kubectl(cluster.dana, ["create", "configmap", `marker-${String(n)}`, "-n", TEAM]);
      const events = JSON.parse(
        await kubectl(cluster.admin, ["get", "events.events.k8s.io", "-n", TEAM, "-o", "json"]),
      ) as { items: { regarding?: { name?: string } }[] };
      return events.items.some((e) => e.regarding?.name?.startsWith("marker-") === true);
    },
    60_000,
  );
}

function drifts(stateDir: string): JournalRecord[] {
  return journalIn(stateDir, TEAM).filter((r) => r.type === "drift-detected");
}

beforeAll(async () => {
  cluster = await bareControlPlane();
});
afterAll(async () => {
  for (const p of cluster.procs.reverse()) await p.stop();
  rmSync(cluster.dir, { recursive: true, force: true });
});

describe("out of a cluster, installed as the README says, no audit webhook", () => {
  it("names the user in every one of 20 out-of-band edits, from admission", async () => {
    await installAsReadmeSays();
    await teamAndPolicy();
    const repo = await GitRepo.create();
    const files = Object.fromEntries(
      NAMES.map((n) => [
        `${n}.yaml`,
        yaml(configMap(n, { LOG_LEVEL: "info" }, { namespace: TEAM })),
      ]),
    );
    await repo.commit("settings", files);
    const stateDir = join(cluster.dir, "state");
    const guard: GuardProcess = await startGuard({
      identity: "out-of-cluster",
      kubeconfig: cluster.admin,
      namespace: "gitops-guard-system",
      stateDir,
      components: "admission,secrets,reconciler,auditor",
      extraArgs: [`--webhook-listen=127.0.0.1:${String(await freePort())}`],
    });
    await gitSync(repo);
    await eventually(
      "the auditor to audit the 20 ConfigMaps",
      () => auditedConfigMaps(stateDir, TEAM).length === NAMES.length,
      90_000,
    );
    await webhookInForce();

    for (const name of NAMES) {
      await kubectl(cluster.dana, [
        "patch",
        "configmap",
        name,
        "-n",
        TEAM,
        "-p",
        '{"data":{"LOG_LEVEL":"debug"}}',
      ]);
    }
    await eventually("20 drift records", () => drifts(stateDir).length === NAMES.length, 60_000);
    const records = drifts(stateDir);
    expect(new Set(records.map((r) => r.object?.name))).toEqual(new Set(NAMES));
    for (const record of records) {
      expect(record.user?.username, JSON.stringify(record)).toBe("dana");
      expect(record.user?.groups).toContain("platform-admins");
      expect(record.userSource).toBe("admission");
    }
    expect(guard.exited(), guard.stderr()).toBe(false);
  });
});
