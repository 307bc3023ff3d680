import { ErrorCodes, isGuardError } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import { groupVersionPath } from "../../kube/paths.js";

interface ApiResourceList {
  readonly resources?: readonly { readonly name: string; readonly kind: string }[];
}

/**
 * The kind of a REST resource: audit events name resources by plural, the journal by kind (as
 * the webhook's Events and `audit list --kind` do). Read from the API server's discovery of the
 * group-version, cached; a miss re-reads it, so a CRD installed since start is found.
 */
export class ResourceKinds {
  private readonly kube: KubeClient;
  private readonly cache = new Map<string, ReadonlyMap<string, string>>();

  constructor(kube: KubeClient) {
    this.kube = kube;
  }

  /** The kind, or undefined when the API server does not serve the resource (any more). */
  async kindOf(apiVersion: string, plural: string): Promise<string | undefined> {
    const hit = this.cache.get(apiVersion)?.get(plural);
    if (hit !== undefined) return hit;
    return (await this.load(apiVersion)).get(plural);
  }

  private async load(apiVersion: string): Promise<ReadonlyMap<string, string>> {
    let list: ApiResourceList;
    try {
      list = await this.kube.rest.json<ApiResourceList>({
        method: "GET",
        path: groupVersionPath(apiVersion),
      });
    } catch (err: unknown) {
      if (!isGuardError(err, ErrorCodes.KUBE_NOT_FOUND)) throw err;
      list = {};
    }
    const byPlural = new Map<string, string>();
    // "deployments/status" and friends are subresources: the object is the parent's kind.
    for (const r of list.resources ?? []) if (!r.name.includes("/")) byPlural.set(r.name, r.kind);
    this.cache.set(apiVersion, byPlural);
    return byPlural;
  }
}
