/**
 * The last render of each Helm GitSync, by what decides it: the chart (commit and path, or the
 * archive's digest), the merged values, the spec and the cluster's version and API list. A sync
 * that changes none of them (the interval, a push of another folder) reuses it and runs no helm.
 * One entry per GitSync, so memory is bounded by the GitSyncs there are.
 */
import { createHash } from "node:crypto";
import type { RenderedObject } from "../render/manifests.js";

export class RenderCache {
  private readonly last = new Map<string, { key: string; items: readonly RenderedObject[] }>();

  static key(parts: Readonly<Record<string, unknown>>): string {
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  }

  get(owner: string, key: string): RenderedObject[] | undefined {
    const hit = this.last.get(owner);
    return hit?.key === key ? [...hit.items] : undefined;
  }

  set(owner: string, key: string, items: readonly RenderedObject[]): void {
    this.last.set(owner, { key, items });
  }

  forget(owner: string): void {
    this.last.delete(owner);
  }
}
