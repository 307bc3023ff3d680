/**
 * The two Deployments as the program in the image sees them: each container's args and
 * environment go through the real CLI and src/config.ts (an unknown GITOPS_GUARD_* variable
 * would stop the pod at start), and the pod specs keep the security and availability promises.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { reconcilerStateDir } from "../../src/reconciler/component.js";
import { GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";
import { find, render } from "./helm.js";
import { configOf, podOf } from "./pod-config.js";

describe("the chart's Deployments", { timeout: GO_TOOL_BUILD_TIMEOUT_MS }, () => {
  const objects = render({ release: "gitops-guard", namespace: "gitops-guard-system" });
  const webhook = find(objects, "Deployment", "gitops-guard-webhook");
  const controller = find(objects, "Deployment", "gitops-guard-controller");

  it("runs the admission component as gitops-guard-webhook itself, in-cluster", async () => {
    const config = await configOf(webhook);
    expect(config).toMatchObject({
      components: ["admission"],
      namespace: "gitops-guard-system",
      impersonate: false,
      webhookListen: "0.0.0.0:9443",
      opsListen: "0.0.0.0:8080",
      identity: "pod-0",
      serviceAccounts: {
        webhook: "gitops-guard-webhook",
        secrets: "gitops-guard-secrets",
        reconciler: "gitops-guard-reconciler",
      },
    });
    expect(config.kubeconfig).toBeUndefined();
    expect(podOf(webhook).serviceAccountName).toBe("gitops-guard-webhook");
  });

  it("runs secrets, reconciler and auditor behind the Lease, impersonating their accounts", async () => {
    const config = await configOf(controller);
    expect(config).toMatchObject({
      components: ["secrets", "reconciler", "auditor"],
      impersonate: true,
      stateDir: "/var/lib/gitops-guard",
      bitnamiSealedSecrets: false,
      unsealThreads: 2,
      leaderElection: { enabled: true, leaseName: "gitops-guard-controller" },
    });
    expect(podOf(controller).serviceAccountName).toBe("gitops-guard-controller");
  });

  it("give both pods the tenant default account `default` and no file:// Git URLs by default", async () => {
    for (const deployment of [webhook, controller]) {
      const config = await configOf(deployment);
      // The webhook trusts what the reconciler acts as: both must compute the same account.
      expect(config.defaultServiceAccount).toBe("default");
      expect(config.allowFileUrls).toBe(false);
      const env = podOf(deployment).containers[0]!.env;
      expect(env).toContainEqual({
        name: "GITOPS_GUARD_DEFAULT_SERVICE_ACCOUNT",
        value: "default",
      });
      expect(env.map((v) => v.name)).not.toContain("GITOPS_GUARD_ALLOW_FILE_URLS");
      expect(podOf(deployment).containers[0]!.args.join(" ")).not.toContain("allow-file-urls");
    }
  });

  it("let the reconciler look up a deleted GitSync's account whatever reconciler.clusterRole is", () => {
    // Its own ClusterRole, not the apply role a narrower reconciler.clusterRole replaces: without
    // it, finalization gets 403 and a deleted GitSync waits forever (src/reconciler/deletion.ts).
    const narrowed = render({ values: { reconciler: { clusterRole: "view" } } });
    const role = find(narrowed, "ClusterRole", "gitops-guard-reconciler") as KubeObject & {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    expect(role.rules).toContainEqual({
      apiGroups: [""],
      resources: ["serviceaccounts"],
      verbs: ["get"],
    });
  });

  it("serves the audit webhook from the mounted Secrets when enabled", async () => {
    const values = {
      auditWebhook: { enabled: true, tlsSecretName: "audit-tls", tokenSecretName: "audit-token" },
    };
    const on = render({ release: "gitops-guard", namespace: "gitops-guard-system", values });
    const deployment = find(on, "Deployment", "gitops-guard-controller");
    expect((await configOf(deployment)).auditWebhook).toEqual({
      listen: "0.0.0.0:9444",
      certFile: "/etc/gitops-guard/audit-tls/tls.crt",
      keyFile: "/etc/gitops-guard/audit-tls/tls.key",
      tokenFile: "/etc/gitops-guard/audit-token/token",
    });
    const service = find(on, "Service", "gitops-guard");
    expect(JSON.stringify(service["spec"])).toContain('"targetPort":"audit"');
    expect((await configOf(controller)).auditWebhook).toEqual({});
  });

  it("talks HTTP/2 to the API server, or HTTP/1.1 in both pods with kubeHttp2=false", async () => {
    expect((await configOf(webhook)).kubeHttp2).toBe(true);
    expect((await configOf(controller)).kubeHttp2).toBe(true);
    const off = render({
      release: "gitops-guard",
      namespace: "gitops-guard-system",
      values: { kubeHttp2: false },
    });
    for (const name of ["gitops-guard-webhook", "gitops-guard-controller"])
      expect((await configOf(find(off, "Deployment", name))).kubeHttp2).toBe(false);
  });

  it("reaches AWS KMS for SOPS with the GitSync's credentials only, unless the pod's identity is lent", async () => {
    expect((await configOf(controller)).sopsKms).toEqual({ ambientCredentials: false });
    const values = {
      controller: {
        sopsKms: {
          endpoint: "https://kms.vpce.example",
          stsEndpoint: "https://sts.vpce.example",
          ambientCredentials: true,
        },
      },
    };
    const lent = render({ release: "gitops-guard", namespace: "gitops-guard-system", values });
    expect((await configOf(find(lent, "Deployment", "gitops-guard-controller"))).sopsKms).toEqual(
      values.controller.sopsKms,
    );
  });

  it("sets workers, key renewal, the watched namespace and the heal-loop backoff on the controller only", async () => {
    const byDefault = await configOf(controller);
    expect(byDefault.reconciler).toEqual({
      workers: 4,
      applyConcurrency: 8,
      healWorkers: 4,
      gitTimeoutSeconds: 120,
      toolsPath: "/usr/local/bin:/usr/bin:/bin",
      healLoopThreshold: 3,
      healLoopWindowSeconds: 60,
      healBackoffSeconds: 2,
      healBackoffCapSeconds: 300,
    });
    expect(byDefault.secrets).toEqual({ workers: 8, keyRenewPeriodHours: 720 });
    expect(byDefault.watchNamespace).toBeUndefined();
    const values = {
      controller: { secretsWorkers: 2, keyRenewPeriodHours: 0, watchNamespace: "team-a" },
      reconciler: {
        workers: 8,
        applyConcurrency: 16,
        healWorkers: 2,
        gitTimeoutSeconds: 600,
        healLoop: { threshold: 5, windowSeconds: 120, backoffSeconds: 10, backoffCapSeconds: 1800 },
      },
    };
    const set = render({ release: "gitops-guard", namespace: "gitops-guard-system", values });
    const config = await configOf(find(set, "Deployment", "gitops-guard-controller"));
    expect(config.reconciler).toEqual({
      workers: 8,
      applyConcurrency: 16,
      healWorkers: 2,
      gitTimeoutSeconds: 600,
      toolsPath: "/usr/local/bin:/usr/bin:/bin",
      healLoopThreshold: 5,
      healLoopWindowSeconds: 120,
      healBackoffSeconds: 10,
      healBackoffCapSeconds: 1800,
    });
    expect(config.secrets).toEqual({ workers: 2, keyRenewPeriodHours: 0 });
    expect(config.watchNamespace).toBe("team-a");
    const names = podOf(find(set, "Deployment", "gitops-guard-webhook")).containers[0]!.env.map(
      (v) => v.name,
    );
    const componentSetting = /^GITOPS_GUARD_(RECONCILER_|SECRETS_|WATCH_NAMESPACE)/;
    expect(names.filter((n) => componentSetting.test(n))).toEqual([]);
  });

  it("names every account and the Lease after another release, so two never collide", async () => {
    const other = render({ release: "edge", namespace: "guard" });
    const config = await configOf(find(other, "Deployment", "edge-gitops-guard-controller"));
    expect(config.serviceAccounts).toEqual({
      webhook: "edge-gitops-guard-webhook",
      secrets: "edge-gitops-guard-secrets",
      reconciler: "edge-gitops-guard-reconciler",
    });
    expect(config.leaderElection.leaseName).toBe("edge-gitops-guard-controller");
    const accounts = other.filter((o) => o.kind === "ServiceAccount").map((o) => o.metadata.name);
    expect(accounts.sort()).toEqual(
      ["controller", "reconciler", "secrets", "webhook"].map((c) => `edge-gitops-guard-${c}`),
    );
  });

  it("are non-root with a read-only root, no capabilities, RuntimeDefault seccomp and a /tmp", () => {
    for (const deployment of [webhook, controller]) {
      const pod = podOf(deployment);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      const [container] = pod.containers;
      expect(container!.securityContext).toMatchObject({
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(container!.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
    }
  });

  it("keep the journal on a PersistentVolumeClaim by default, or an emptyDir", () => {
    const state = (objs: KubeObject[]): unknown =>
      podOf(find(objs, "Deployment", "gitops-guard-controller")).volumes.find(
        (v) => v["name"] === "state",
      );
    expect(state(objects)).toEqual({
      name: "state",
      persistentVolumeClaim: { claimName: "gitops-guard-controller" },
    });
    find(objects, "PersistentVolumeClaim", "gitops-guard-controller");
    const ephemeral = render({ values: { controller: { persistence: { type: "emptyDir" } } } });
    expect(state(ephemeral)).toEqual({ name: "state", emptyDir: {} });
    expect(ephemeral.some((o) => o.kind === "PersistentVolumeClaim")).toBe(false);
  });

  it("decrypt SOPS checkouts for kustomize in memory, never on the journal's disk", () => {
    const pod = podOf(controller);
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: "decrypt-scratch",
      // Where the reconciler puts it by default (src/reconciler/component.ts).
      mountPath: join(reconcilerStateDir("/var/lib/gitops-guard"), "scratch"),
    });
    expect(pod.volumes).toContainEqual({
      name: "decrypt-scratch",
      emptyDir: { medium: "Memory", sizeLimit: "256Mi" },
    });
  });

  it("spread two webhook replicas over nodes, and a PodDisruptionBudget keeps one", () => {
    expect((webhook["spec"] as { replicas: number }).replicas).toBe(2);
    expect(podOf(webhook).affinity).toMatchObject({
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { podAffinityTerm: { topologyKey: "kubernetes.io/hostname" } },
        ],
      },
    });
    expect(find(objects, "PodDisruptionBudget")["spec"]).toMatchObject({ minAvailable: 1 });
    // One replica and minAvailable 1 would block every drain.
    const single = render({ values: { webhook: { replicas: 1 } } });
    expect(single.some((o) => o.kind === "PodDisruptionBudget")).toBe(false);
  });

  it("use the image ghcr.io/gitops-guard/gitops-guard at the chart's appVersion", () => {
    const image = (d: KubeObject): unknown => podOf(d).containers[0]!.image;
    expect(image(webhook)).toBe("ghcr.io/gitops-guard/gitops-guard:0.1.0");
    const pinned = render({
      values: { image: { repository: "ghcr.io/gitops-guard/gitops-guard", tag: "0.1.1" } },
    });
    expect(image(find(pinned, "Deployment", "gitops-guard-controller"))).toBe(
      "ghcr.io/gitops-guard/gitops-guard:0.1.1",
    );
  });
});
