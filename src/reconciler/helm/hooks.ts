/**
 * Helm's hooks as the reconciler's phases, as Argo CD maps them: pre-install and pre-upgrade
 * become PreSync (helm.sh/hook-weight orders them, lowest first, each weight waited for);
 * post-install and post-upgrade run after every wave is healthy; test hooks and the delete and
 * rollback hooks (which a render has no moment for) are left out. Rendering cannot tell an
 * install from an upgrade, so both kinds run on every sync that changes them.
 * `helm.sh/resource-policy: keep` keeps the object when it leaves the chart.
 */
import type { KubeObject } from "../../kube/objects.js";
import type { RenderedObject } from "../render/manifests.js";
import { HOOK_ANNOTATION, PRESYNC_HOOK, PRUNE_ANNOTATION, SYNC_WAVE_ANNOTATION } from "../names.js";

const HELM_HOOK = "helm.sh/hook";
const HELM_WEIGHT = "helm.sh/hook-weight";
const HELM_RESOURCE_POLICY = "helm.sh/resource-policy";
const PRE = new Set(["pre-install", "pre-upgrade"]);
const POST = new Set(["post-install", "post-upgrade"]);
/** Post hooks' wave: after every wave a chart could sensibly use (weights are added to it). */
export const POST_HOOK_WAVE = 1_000_000;

function hooksOf(obj: KubeObject): string[] {
  const value = obj.metadata.annotations?.[HELM_HOOK];
  return value === undefined
    ? []
    : value
        .split(",")
        .map((h) => h.trim())
        .filter((h) => h !== "");
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
  const weight = weightOf(item.object);
  if (hooks.some((h) => PRE.has(h))) {
    return annotate(item, {
      ...keep,
      [HOOK_ANNOTATION]: PRESYNC_HOOK,
      [SYNC_WAVE_ANNOTATION]: String(weight),
    });
  }
  if (hooks.some((h) => POST.has(h))) {
    return annotate(item, { ...keep, [SYNC_WAVE_ANNOTATION]: String(POST_HOOK_WAVE + weight) });
  }
  return undefined;
}

export function mapHelmHooks(items: readonly RenderedObject[]): RenderedObject[] {
  return items.flatMap((item) => mapOne(item) ?? []);
}
