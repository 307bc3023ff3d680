// Fixtures of the reconciler scale benchmark: many-object repositories, GitSyncs, the wait for
// Ready, and the kubectl baseline. Every wait is bounded in time.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { KubeClient } from "../../src/kube/client.js";
import { gitSyncRef, type GitSyncObject } from "../../src/reconciler/gitsync.js";
import { GITSYNC } from "../../src/reconciler/names.js";
import { realClock } from "../../src/runtime/clock.js";
import { GitRepo } from "../reconciler/helpers/git-repo.js";
import { configMap, yaml } from "../reconciler/helpers/manifests.js";
import { tempDir } from "../reconciler/helpers/temp.js";

const exec = promisify(execFile);
const clock = realClock();
// Small files keep each YAML parse short; the repository's size is the objects, not the layout.
const PER_FILE = 100;

export interface ObjectCounts {
  readonly configMaps: number;
  readonly services: number;
}

/** A Service without a selector: no endpoints to wait for, so it is healthy once applied. */
function service(name: string): object {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }] },
  };
}

/** The objects, without a namespace (the GitSync's, or kubectl's -n, decides it). */
function objects(counts: ObjectCounts): { prefix: string; docs: object[] }[] {
  const pad = (i: number): string => String(i).padStart(5, "0");
  const cms = Array.from({ length: counts.configMaps }, (_, i) =>
    configMap(`cm-${pad(i)}`, { index: String(i), owner: "team-a", tier: "backend" }),
  );
  const svcs = Array.from({ length: counts.services }, (_, i) => service(`svc-${pad(i)}`));
  return [
    { prefix: "configmaps", docs: cms },
    { prefix: "services", docs: svcs },
  ];
}

/** Manifest files (relative path -> YAML), PER_FILE objects each. */
export function manifestFiles(counts: ObjectCounts): Record<string, string> {
  const files: Record<string, string> = {};
  for (const { prefix, docs } of objects(counts)) {
    for (let start = 0; start < docs.length; start += PER_FILE) {
      const name = `${prefix}-${String(start / PER_FILE).padStart(3, "0")}.yaml`;
      files[name] = yaml(...docs.slice(start, start + PER_FILE));
    }
  }
  return files;
}

/** A folder holding the same files, for kubectl. */
export function manifestDir(files: Readonly<Record<string, string>>): string {
  const dir = join(tempDir("gg-scale-kubectl-"), "manifests");
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** A repository whose one commit holds the files; resolves with it and the commit id. */
export async function repoWith(
  files: Readonly<Record<string, string>>,
): Promise<{ repo: GitRepo; commit: string }> {
  const repo = await GitRepo.create();
  const commit = await repo.commit("many objects", files);
  return { repo, commit };
}

export async function createNamespace(admin: KubeClient, name: string): Promise<void> {
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

export async function createGitSync(
  admin: KubeClient,
  at: { namespace: string; name: string },
  url: string,
): Promise<void> {
  // A long interval: the figure is the first sync, not a periodic one that overlaps it.
  await admin.apply(
    { ...GITSYNC, metadata: at, spec: { url, interval: "1h", prune: true, selfHeal: true } },
    { fieldManager: "bench" },
  );
}

function readyCondition(obj: GitSyncObject | undefined): { status: string; message: string } {
  const ready = obj?.status?.conditions?.find((c) => c.type === "Ready");
  return { status: ready?.status ?? "absent", message: ready?.message ?? "" };
}

/** Ready=True, the commit applied and an inventory of the expected size. */
function isDone(obj: GitSyncObject | undefined, commit: string, objects: number): boolean {
  return (
    readyCondition(obj).status === "True" &&
    (obj?.status?.lastAppliedRevision ?? "").includes(commit) &&
    obj?.status?.inventory?.length === objects
  );
}

export interface ReadyWait {
  readonly namespace: string;
  readonly name: string;
  readonly commit: string;
  readonly objects: number;
}

/** Polls the GitSync until it is done; throws with its last Ready condition after timeoutMs. */
export async function waitGitSyncReady(
  admin: KubeClient,
  want: ReadyWait,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last: GitSyncObject | undefined;
  while (performance.now() < deadline) {
    last = await admin.get<GitSyncObject>(gitSyncRef(want.namespace, want.name));
    if (isDone(last, want.commit, want.objects)) return;
    await clock.sleep(200);
  }
  const ready = readyCondition(last);
  const inventory = String(last?.status?.inventory?.length ?? 0);
  throw new Error(
    `GitSync ${want.namespace}/${want.name} not done within ${String(timeoutMs)} ms: ` +
      `Ready=${ready.status} (${ready.message}), inventory ${inventory}/${String(want.objects)}`,
  );
}

/** Wall time of one `kubectl apply --server-side` of dir into namespace, in ms (bounded: 10 min). */
export async function timeKubectlApply(
  kubectl: string,
  kubeconfig: string,
  dir: string,
  namespace: string,
): Promise<number> {
  const args = [`--kubeconfig=${kubeconfig}`, "apply", "--server-side", "--force-conflicts"];
  const start = performance.now();
  await exec(kubectl, [...args, "-n", namespace, "-f", dir], {
    encoding: "utf8",
    maxBuffer: 32 * 1024 * 1024,
    timeout: 600_000,
  });
  return performance.now() - start;
}
