/**
 * Who the known GitOps reconcilers are, as data (reference/admission-webhooks.md section c),
 * shared by admission (who may write) and the auditor (whose writes are not drift).
 * A GuardPolicy names presets in spec.reconcilers.presets; the service accounts are what
 * authorises (userInfo). Field managers are evidence only: any client can send
 * --field-manager=argocd-controller, so they are used to explain a denial, never to allow one.
 */

/** The fixed names of DESIGN.md. */
export const BUNDLED_NAMESPACE = "gitops-guard-system";
export const BUNDLED_SERVICE_ACCOUNTS = {
  reconciler: "gitops-guard-reconciler",
  secrets: "gitops-guard-secrets",
  webhook: "gitops-guard-webhook",
} as const;

export const PRESET_NAMES = ["gitops-guard", "argocd", "flux"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface ReconcilerPreset {
  readonly name: PresetName;
  readonly title: string;
  /** NAMESPACE/NAME of the service accounts that apply Git to the cluster. */
  readonly serviceAccounts: readonly string[];
  /** Field managers its writes carry: evidence for messages and the auditor, not identity. */
  readonly fieldManagers: readonly string[];
  /** Why the list is what it is, for people reading a policy. */
  readonly note: string;
}

export const RECONCILER_PRESETS: Readonly<Record<PresetName, ReconcilerPreset>> = {
  "gitops-guard": {
    name: "gitops-guard",
    title: "gitops-guard's bundled reconciler",
    serviceAccounts: [`${BUNDLED_NAMESPACE}/${BUNDLED_SERVICE_ACCOUNTS.reconciler}`],
    fieldManagers: ["gitops-guard"],
    note: "The secrets controller is not a reconciler: it may write Secrets (spec.secrets.writers).",
  },
  argocd: {
    name: "argocd",
    title: "Argo CD",
    // manifests/base/application-controller: the SA that syncs, prunes and self-heals.
    serviceAccounts: ["argocd/argocd-application-controller"],
    // common/common.go ArgoCDSSAManager; client-side apply defaults the manager to the user agent.
    fieldManagers: ["argocd-controller", "argocd-application-controller"],
    note:
      "argocd-server (UI/CLI edits and resource actions) is deliberately absent: those are not " +
      "Git changes. With sync impersonation, list the destination service accounts instead.",
  },
  flux: {
    name: "flux",
    title: "Flux",
    serviceAccounts: ["flux-system/kustomize-controller", "flux-system/helm-controller"],
    fieldManagers: ["kustomize-controller", "gotk-kustomize-controller", "helm-controller"],
    note:
      "With spec.serviceAccountName or --default-service-account Flux impersonates tenant " +
      "service accounts: list those in spec.reconcilers.serviceAccounts.",
  },
};

/** The preset whose writes usually carry this field manager, if any. */
export function presetForFieldManager(manager: string): ReconcilerPreset | undefined {
  return Object.values(RECONCILER_PRESETS).find((p) => p.fieldManagers.includes(manager));
}
