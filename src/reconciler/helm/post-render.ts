/**
 * spec.helm.postRender.patches: Kustomize patches over what helm rendered (Flux's
 * post-renderers), run through the kustomize the reconciler already ships: the rendered objects
 * and a kustomization naming the patches go to a private folder, `kustomize build` patches them,
 * and the folder goes. Patches are kustomize's own (strategic merge or JSON 6902, with target).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { kustomizeBuild, type KustomizeSettings } from "../render/kustomize.js";
import type { RenderedObject } from "../render/manifests.js";

export interface PostRender {
  readonly patches: readonly Readonly<Record<string, unknown>>[];
}

export async function postRender(
  items: readonly RenderedObject[],
  spec: PostRender,
  kustomize: KustomizeSettings,
  scratchDir: string,
): Promise<RenderedObject[]> {
  if (spec.patches.length === 0) return [...items];
  await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(scratchDir, "gitops-guard-post-render-"));
  try {
    const docs = items.map((i) => stringify(i.object)).join("---\n");
    await writeFile(join(dir, "rendered.yaml"), docs, { mode: 0o600 });
    const kustomization = {
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: ["rendered.yaml"],
      patches: spec.patches,
    };
    await writeFile(join(dir, "kustomization.yaml"), stringify(kustomization), { mode: 0o600 });
    const source = items[0]?.source.replace(/\)$/, " + postRender)") ?? "postRender";
    return (await kustomizeBuild(dir, ".", kustomize)).map((item) => ({ ...item, source }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
