import { describe, expect, it } from "vitest";
import { ErrorCodes } from "../../src/errors.js";
import { batches, kindRank, planPhases, waveOf } from "../../src/reconciler/apply/plan.js";
import type { Phase } from "../../src/reconciler/apply/plan.js";
import { desiredOf, obj } from "./helpers/desired.js";

/** A phase as "kind[:wave]: Kind/name, ... | next batch". */
function show(phases: readonly Phase[]): string[] {
  return phases.map((p) => {
    const label = p.kind === "wave" ? `wave:${p.wave}` : p.kind;
    const body = p.batches
      .map((b) => b.map((o) => `${o.ref.kind}/${o.ref.name}`).join(","))
      .join(" | ");
    return `${label}: ${body}`;
  });
}

describe("apply order", () => {
  it("puts Namespaces and CRDs first, PreSync hooks next, then waves, and webhooks last", () => {
    const phases = planPhases(
      desiredOf([
        obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "guard"),
        obj("apps/v1", "Deployment", "web"),
        obj("example.com/v1", "Widget", "w"),
        obj("v1", "ConfigMap", "late", { "gitops-guard.io/sync-wave": "2" }),
        obj("batch/v1", "Job", "migrate", { "gitops-guard.io/hook": "PreSync" }),
        obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"),
        obj("v1", "Service", "web"),
        obj("v1", "ConfigMap", "early", { "argocd.argoproj.io/sync-wave": "-1" }),
        obj("v1", "Namespace", "apps"),
        obj("v1", "ServiceAccount", "web"),
      ]),
    );
    expect(show(phases)).toEqual([
      "definitions: Namespace/apps | CustomResourceDefinition/widgets.example.com",
      "presync: Job/migrate",
      "wave:-1: ConfigMap/early",
      "wave:0: ServiceAccount/web | Service/web | Deployment/web | Widget/w",
      "wave:2: ConfigMap/late",
      "last: ValidatingWebhookConfiguration/guard",
    ]);
  });

  it("prefers gitops-guard's wave annotation over Argo CD's", () => {
    const [both] = desiredOf([
      obj("v1", "ConfigMap", "c", {
        "gitops-guard.io/sync-wave": "3",
        "argocd.argoproj.io/sync-wave": "7",
      }),
    ]);
    expect(waveOf(both!)).toBe(3);
  });

  it("refuses a wave that is not an integer, naming the file", () => {
    const [bad] = desiredOf([obj("v1", "ConfigMap", "c", { "gitops-guard.io/sync-wave": "soon" })]);
    expect(() => waveOf(bad!)).toThrow(
      expect.objectContaining({ code: ErrorCodes.RENDER_OBJECT_INVALID }),
    );
    expect(() => waveOf(bad!)).toThrow(/file-0\.yaml:1: gitops-guard\.io\/sync-wave "soon"/);
  });

  it("runs PreSync hooks of any kind by wave, PostSync hooks after the webhooks, and refuses other hook types and delete policies", () => {
    const phases = planPhases(
      desiredOf([
        obj("batch/v1", "Job", "migrate", {
          "gitops-guard.io/hook": "PreSync",
          "gitops-guard.io/sync-wave": "5",
        }),
        obj("v1", "ServiceAccount", "migrator", {
          "gitops-guard.io/hook": "PreSync",
          "gitops-guard.io/sync-wave": "-5",
        }),
        obj("v1", "ConfigMap", "app"),
        obj("batch/v1", "Job", "notify", {
          "gitops-guard.io/hook": "PostSync",
          "gitops-guard.io/hook-delete-policy": "HookSucceeded",
        }),
        obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "hook"),
      ]),
    );
    expect(phases.map((p) => [p.kind, p.wave, p.batches.flat().map((o) => o.ref.name)])).toEqual([
      ["presync", -5, ["migrator"]],
      ["presync", 5, ["migrate"]],
      ["wave", 0, ["app"]],
      ["last", 0, ["hook"]],
      ["postsync", 0, ["notify"]],
    ]);
    expect(() =>
      planPhases(desiredOf([obj("batch/v1", "Job", "j", { "gitops-guard.io/hook": "SyncFail" })])),
    ).toThrow(/gitops-guard\.io\/hook=SyncFail/);
    expect(() =>
      planPhases(
        desiredOf([
          obj("batch/v1", "Job", "j", {
            "gitops-guard.io/hook": "PreSync",
            "gitops-guard.io/hook-delete-policy": "HookSucceeded,WhenDone",
          }),
        ]),
      ),
    ).toThrow(/hook-delete-policy "WhenDone" on Job j: use BeforeHookCreation/);
  });

  it("groups one kind rank into a batch and sorts by namespace and name inside it", () => {
    const groups = batches(
      desiredOf([
        obj("v1", "Secret", "b"),
        obj("v1", "ConfigMap", "z"),
        obj("v1", "ConfigMap", "a"),
        obj("v1", "Secret", "a"),
      ]),
    );
    expect(groups.map((g) => g.map((o) => `${o.ref.kind}/${o.ref.name}`))).toEqual([
      ["Secret/a", "Secret/b"],
      ["ConfigMap/a", "ConfigMap/z"],
    ]);
  });

  it("ranks custom resources after every built-in kind", () => {
    expect(kindRank("Namespace")).toBe(0);
    expect(kindRank("Deployment")).toBeLessThan(kindRank("Ingress"));
    expect(kindRank("Widget")).toBeGreaterThan(kindRank("APIService"));
  });
});
