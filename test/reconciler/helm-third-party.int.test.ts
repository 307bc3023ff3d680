/**
 * Real third-party charts (ingress-nginx, cert-manager), as their projects ship them in their Go
 * modules, committed to Git and rendered by the reconciler with values that are not the
 * charts' defaults (a values file from the repository, then inline values over it): every object
 * the real `helm template` renders with the same values and cluster facts is in the API server
 * with every field helm set, the inventory lists exactly those objects, and status.helm names
 * the chart. Cluster-scoped objects the charts create are deleted when each test finishes.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { stringify } from "yaml";
import type { KubeObject } from "../../src/kube/objects.js";
import type { GitSyncObject } from "../../src/reconciler/gitsync.js";
import { clusterFacts } from "../../src/reconciler/helm/cluster.js";
import { GITSYNC } from "../../src/reconciler/names.js";
import { clientAs, eventually, testNamespace } from "../envtest/context.js";
import { GitRepo } from "./helpers/git-repo.js";
import {
  condition,
  putGitSync,
  readGitSync,
  startReconciler,
  type Harness,
} from "./helpers/harness.js";
import {
  THIRD_PARTY_CHARTS,
  appliedByReconciler,
  chartFiles,
  chartFolder,
  foreignMetadata,
  helmTemplateObjects,
  subsetMismatches,
  type ThirdPartyChart,
} from "./helpers/third-party-charts.js";

const { ingressNginx, certManager } = THIRD_PARTY_CHARTS;
const VALUES_FILE = "env/values.yaml";

let harness: Harness;
beforeAll(async () => {
  // Downloads the modules on a machine that has not got them yet (seconds), then starts.
  chartFolder(ingressNginx);
  chartFolder(certManager);
  harness = await startReconciler();
}, 600_000);
afterAll(async () => {
  await harness.stop();
});

interface Deployed {
  readonly ns: string;
  readonly release: string;
  /** What helm template rendered, less the hooks the reconciler leaves out. */
  readonly expected: readonly KubeObject[];
  readonly synced: GitSyncObject;
}

/** Ready=True at the commit, waiting longer than the harness (large CRDs, two busy cores). */
async function waitApplied(ns: string, name: string, commit: string): Promise<GitSyncObject> {
  let last: GitSyncObject | undefined;
  try {
    await eventually(
      `GitSync ${ns}/${name} applied at ${commit.slice(0, 8)}`,
      async () => {
        last = await readGitSync(ns, name);
        const ready = condition(last, "Ready");
        return (
          ready?.status === "True" &&
          ready.observedGeneration === last.metadata.generation &&
          (last.status?.lastAppliedRevision ?? "").endsWith(commit)
        );
      },
      150_000,
    );
  } catch (err: unknown) {
    throw new Error(`${(err as Error).message}; status: ${JSON.stringify(last?.status)}`, {
      cause: err,
    });
  }
  return last as GitSyncObject;
}

/** Where the object lives: its own namespace, the release's, or none (cluster-scoped). */
async function placeOf(obj: KubeObject, release: string): Promise<string | undefined> {
  const resource = await clientAs("admin").resource(obj);
  return resource.namespaced ? (obj.metadata.namespace ?? release) : undefined;
}

/**
 * When the test finishes: lets the GitSync go leaving its objects (deleting all of them would
 * need the prune guard's approval), then deletes the chart's cluster-scoped objects (the
 * namespace takes the rest). Deleting them while the GitSync exists would only see them healed.
 */
function cleanUpAtEnd(ns: string, objects: readonly KubeObject[]): void {
  onTestFinished(async () => {
    const admin = clientAs("admin");
    const gitSync = { ...GITSYNC, namespace: ns, name: "vendor" };
    await admin.mergePatch(gitSync, { spec: { deletionPolicy: "Orphan" } });
    await admin.delete(gitSync);
    await eventually(
      `GitSync ${ns}/vendor to be gone`,
      async () => (await admin.get(gitSync)) === undefined,
      60_000,
    );
    for (const obj of objects) {
      if ((await admin.resource(obj)).namespaced) continue;
      await admin.delete({ apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name! });
    }
  });
}

/**
 * Commits the chart with a values file, computes helm's own render with the same values and
 * cluster facts, lets the reconciler apply it through a GitSync, and returns both.
 */
async function deploy(
  chart: ThirdPartyChart,
  settings: (ns: string, suffix: string) => { release: string; file: object; inline: object },
): Promise<Deployed> {
  const ns = await testNamespace("helm-3p");
  const { release, file, inline } = settings(ns, ns.split("-").at(-1) ?? "");
  const repo = await GitRepo.create();
  const commit = await repo.commit(`${chart.chart} from ${chart.module}@${chart.version}`, {
    ...chartFiles(chart),
    [VALUES_FILE]: stringify(file),
  });
  // The facts the reconciler's render will see: nothing else changes the cluster meanwhile.
  const cluster = await clusterFacts(clientAs("admin").rest);
  const rendered = helmTemplateObjects({
    chartDir: chartFolder(chart),
    releaseName: release,
    namespace: ns,
    values: [stringify(file), JSON.stringify(inline)],
    cluster,
  });
  const expected = appliedByReconciler(rendered);
  await putGitSync(ns, "vendor", {
    url: repo.url,
    ref: { branch: "main" },
    path: chart.path,
    helm: { releaseName: release, valueFiles: [VALUES_FILE], values: inline },
  });
  cleanUpAtEnd(ns, expected);
  const synced = await waitApplied(ns, "vendor", commit);
  return { ns, release, expected, synced };
}

/** Every field helm set, compared with the live object; empty when the cluster equals helm. */
async function differences(deployed: Deployed): Promise<string[]> {
  const admin = clientAs("admin");
  const out: string[] = [];
  for (const want of deployed.expected) {
    const namespace = await placeOf(want, deployed.ns);
    const id = `${want.kind} ${namespace ?? ""}/${want.metadata.name ?? ""}`;
    const live = await admin.get({
      apiVersion: want.apiVersion,
      kind: want.kind,
      ...(namespace === undefined ? {} : { namespace }),
      name: want.metadata.name!,
    });
    if (live === undefined) {
      out.push(`${id}: not in the API server`);
      continue;
    }
    // What the API server itself leaves out of helm's output (a field of a feature this
    // Kubernetes does not serve, such as CRD selectableFields before 1.32) is not a difference:
    // a server-side dry run of helm's object shows it gone there too.
    const stored = await admin.apply(
      {
        ...want,
        metadata: { ...want.metadata, ...(namespace === undefined ? {} : { namespace }) },
      },
      { dryRun: true, force: true, fieldManager: "helm-template-compare" },
    );
    const dropped = new Set(subsetMismatches(want, stored));
    out.push(
      ...subsetMismatches(want, live)
        .filter((m) => !dropped.has(m))
        .map((m) => `${id} ${m}`),
      ...foreignMetadata(want, live).map((m) => `${id}: live has ${m}`),
    );
  }
  return out;
}

/** The inventory (exactly helm's objects) and status.helm (the chart as Chart.yaml names it). */
async function expectStatus(deployed: Deployed, chart: ThirdPartyChart): Promise<void> {
  const key = (e: { apiVersion: string; kind: string; namespace?: string; name: string }): string =>
    `${e.apiVersion} ${e.kind} ${e.namespace ?? ""}/${e.name}`;
  const wanted = await Promise.all(
    deployed.expected.map(async (o) => {
      const namespace = await placeOf(o, deployed.ns);
      return key({
        ...o,
        ...(namespace === undefined ? {} : { namespace }),
        name: o.metadata.name!,
      });
    }),
  );
  const inventory = (deployed.synced.status?.inventory ?? []).map(key);
  expect(inventory.sort()).toEqual(wanted.sort());
  expect(new Set(wanted).size).toBe(wanted.length);
  expect(deployed.synced.status?.helm).toMatchObject({
    chart: chart.chart,
    version: chart.chartVersion,
    valuesDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) as unknown,
  });
}

/** The kind of each object, sorted: what the values changed in the render. */
function kinds(objects: readonly KubeObject[]): string[] {
  return objects.map((o) => o.kind).sort();
}

function find(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`helm rendered no ${kind} ${name}`);
  return found;
}

describe("real third-party charts from Git", () => {
  it(`ingress-nginx ${ingressNginx.chartVersion} (${ingressNginx.module}@${ingressNginx.version}) with its webhook off, a class of its own and a TCP service`, async () => {
    const deployed = await deploy(ingressNginx, (ns, suffix) => ({
      release: `edge-${suffix}`,
      file: {
        controller: {
          admissionWebhooks: { enabled: false },
          replicaCount: 2,
          service: { type: "ClusterIP" },
          config: { "use-forwarded-headers": "true", "proxy-body-size": "8m" },
          // null drops the chart's default key, as helm merges values.
          nodeSelector: { "kubernetes.io/os": null, "node-role.gitops-guard.io/edge": "true" },
        },
        tcp: { "9000": `${ns}/echo:9000` },
        defaultBackend: { enabled: true },
      },
      inline: {
        controller: {
          replicaCount: 3,
          ingressClass: `edge-${suffix}`,
          ingressClassResource: {
            name: `edge-${suffix}`,
            controllerValue: `gitops-guard.io/edge-${suffix}`,
          },
          podLabels: { team: "edge" },
          extraArgs: { "enable-ssl-passthrough": "true" },
          resources: { requests: { cpu: "250m", memory: "128Mi" } },
        },
      },
    }));
    const { expected, release } = deployed;
    // The values took: no webhook, a default backend, the TCP ConfigMap, a class of our own.
    expect(kinds(expected)).toEqual([
      "ClusterRole",
      "ClusterRoleBinding",
      "ConfigMap",
      "ConfigMap",
      "Deployment",
      "Deployment",
      "IngressClass",
      "PodDisruptionBudget",
      "Role",
      "RoleBinding",
      "Service",
      "Service",
      "ServiceAccount",
      "ServiceAccount",
    ]);
    const controller = find(expected, "Deployment", `${release}-ingress-nginx-controller`);
    expect(controller["spec"]).toMatchObject({
      replicas: 3,
      template: {
        metadata: { labels: { team: "edge" } },
        spec: { nodeSelector: { "node-role.gitops-guard.io/edge": "true" } },
      },
    });
    expect(find(expected, "IngressClass", release)["spec"]).toEqual({
      controller: `gitops-guard.io/edge-${release.slice("edge-".length)}`,
    });

    expect(await differences(deployed)).toEqual([]);
    await expectStatus(deployed, ingressNginx);
  }, 300_000);

  it(`cert-manager ${certManager.version} (${certManager.module}) scaled to zero, with its CRDs and webhooks, leader election in the release namespace`, async () => {
    const deployed = await deploy(certManager, (ns, suffix) => ({
      release: `pki-${suffix}`,
      file: {
        crds: { enabled: true },
        // A post-install Job waits for the webhook, which never runs here (no nodes).
        startupapicheck: { enabled: false },
        global: {
          leaderElection: { namespace: ns },
          rbac: { aggregateClusterRoles: false },
        },
        prometheus: { enabled: false },
        replicaCount: 2,
      },
      inline: {
        // No node runs a pod here: at zero replicas the Deployments are complete, so the
        // reconciler goes on to the webhook configurations, which it applies last.
        replicaCount: 0,
        enableCertificateOwnerRef: true,
        podLabels: { team: "pki" },
        extraArgs: ["--default-issuer-kind=ClusterIssuer"],
        podDisruptionBudget: { enabled: true, minAvailable: 1 },
        webhook: { replicaCount: 0, timeoutSeconds: 15 },
        cainjector: { replicaCount: 0 },
        nodeSelector: { "kubernetes.io/os": null, "node-role.gitops-guard.io/pki": "true" },
      },
    }));
    const { expected, release, ns } = deployed;
    expect(expected.filter((o) => o.kind === "CustomResourceDefinition")).toHaveLength(6);
    expect(expected.filter((o) => o.kind === "Deployment")).toHaveLength(3);
    expect(expected.some((o) => o.kind === "Job")).toBe(false);
    // Nothing lands outside the release namespace but cluster-scoped objects.
    expect(
      expected.filter((o) => o.metadata.namespace !== undefined && o.metadata.namespace !== ns),
    ).toEqual([]);
    expect(kinds(expected).filter((k) => k.endsWith("WebhookConfiguration"))).toEqual([
      "MutatingWebhookConfiguration",
      "ValidatingWebhookConfiguration",
    ]);
    expect(find(expected, "Deployment", `${release}-cert-manager`)["spec"]).toMatchObject({
      replicas: 0,
      template: {
        metadata: { labels: { team: "pki" } },
        spec: { nodeSelector: { "node-role.gitops-guard.io/pki": "true" } },
      },
    });

    expect(await differences(deployed)).toEqual([]);
    await expectStatus(deployed, certManager);
  }, 300_000);
});
