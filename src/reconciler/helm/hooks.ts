/**
 * Helm's hooks as the reconciler's phases, as Argo CD maps them: pre-install and pre-upgrade
 * become PreSync, post-install and post-upgrade PostSync (helm.sh/hook-weight orders them, lowest
 * first, each weight waited for); test hooks and the delete and rollback hooks (which a render has
 * no moment for) are left out. helm.sh/hook-delete-policy becomes the reconciler's delete policy
 * (Helm's default, before-hook-creation, when there is none), so hooks run once per release, as
 * helm runs them once per install or upgrade; rendering cannot tell the two apart.
 * `helm.sh/resource-policy: keep` keeps the object when it leaves the chart.
 */
import type { KubeObject } from "../../kube/objects.js";
import type { RenderedObject } from "../render/manifests.js";
import {
  HOOK_ANNOTATION,
  HOOK_DELETE_POLICY_ANNOTATION,
  POSTSYNC_HOOK,
  PRESYNC_HOOK,
  PRUNE_ANNOTATION,
  SYNC_WAVE_ANNOTATION,
} from "../names.js";

const HELM_HOOK = "helm.sh/hook";
const HELM_WEIGHT = "helm.sh/hook-weight";
const HELM_RESOURCE_POLICY = "helm.sh/resource-policy";
const HELM_DELETE_POLICY = "helm.sh/hook-delete-policy";
const DELETE_POLICIES: Readonly<Record<string, string>> = {
  "before-hook-creation": "BeforeHookCreation",
  "hook-succeeded": "HookSucceeded",
  "hook-failed": "HookFailed",
};
const PRE = new Set(["pre-install", "pre-upgrade"]);
const POST = new Set(["post-install", "post-upgrade"]);
function listOf(value: string | undefined): string[] {
  return value === undefined
    ? []
    : value
        .split(",")
        .map((h) => h.trim())
        .filter((h) => h !== "");
}

function hooksOf(obj: KubeObject): string[] {
  return listOf(obj.metadata.annotations?.[HELM_HOOK]);
}

/** The reconciler's delete policies for a hook; values helm does not know are ignored, as helm does. */
function deletePolicyOf(obj: KubeObject): string {
  const given = obj.metadata.annotations?.[HELM_DELETE_POLICY];
  if (given === undefined) return "BeforeHookCreation";
  return listOf(given)
    .flatMap((p) => DELETE_POLICIES[p] ?? [])
    .join(",");
}

function weightOf(obj: KubeObject): number {
  const weight = Number(obj.metadata.annotations?.[HELM_WEIGHT] ?? "0");
  return Number.isSafeInteger(weight) ? weight : 0;
}

function annotate(item: RenderedObject, extra: Record<string, string>): RenderedObject {
  const { metadata } = item.object;
  return {
    ...item,
    object: {
      ...item.object,
      metadata: { ...metadata, annotations: { ...metadata.annotations, ...extra } },
    },
  };
}

/** One rendered object as the reconciler should take it, or undefined when it is left out. */
function mapOne(item: RenderedObject): RenderedObject | undefined {
  const keep =
    item.object.metadata.annotations?.[HELM_RESOURCE_POLICY] === "keep"
      ? { [PRUNE_ANNOTATION]: "disabled" }
      : {};
  const hooks = hooksOf(item.object);
  if (hooks.length === 0) return Object.keys(keep).length === 0 ? item : annotate(item, keep);
  const phase = hooks.some((h) => PRE.has(h))
    ? PRESYNC_HOOK
    : hooks.some((h) => POST.has(h))
      ? POSTSYNC_HOOK
      : undefined;
  if (phase === undefined) return undefined;
  const policy = deletePolicyOf(item.object);
  return annotate(item, {
    ...keep,
    [HOOK_ANNOTATION]: phase,
    [SYNC_WAVE_ANNOTATION]: String(weightOf(item.object)),
    ...(policy === "" ? {} : { [HOOK_DELETE_POLICY_ANNOTATION]: policy }),
  });
}

export function mapHelmHooks(items: readonly RenderedObject[]): RenderedObject[] {
  return items.flatMap((item) => mapOne(item) ?? []);
}
