import { ErrorCodes, GuardError, isGuardError } from "../errors.js";
import type { TypeRef } from "./objects.js";
import { groupVersionPath, type ResourceInfo } from "./paths.js";
import type { RestClient } from "./rest.js";

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

/**
 * Maps a kind to its REST resource through the API server's discovery, one group-version at a
 * time. A miss re-reads the group-version once, so a CRD installed after start is found.
 */
export class Discovery {
  private readonly cache = new Map<string, Map<string, ResourceInfo>>();
  private readonly rest: RestClient;

  constructor(rest: RestClient) {
    this.rest = rest;
  }

  async resourceFor(type: TypeRef): Promise<ResourceInfo> {
    const hit = this.cache.get(type.apiVersion)?.get(type.kind);
    if (hit !== undefined) return hit;
    const fresh = (await this.load(type.apiVersion)).get(type.kind);
    if (fresh === undefined) {
      throw new GuardError(
        ErrorCodes.KUBE_NOT_FOUND,
        `the API server does not serve kind ${type.kind} in ${type.apiVersion}`,
        {
          details: { apiVersion: type.apiVersion, kind: type.kind },
        },
      );
    }
    return fresh;
  }

  /**
   * The kind of a REST resource (plural), for callers that only have the plural (audit events);
   * undefined when the API server does not serve it. Same cache and miss rule as resourceFor.
   */
  async kindOf(apiVersion: string, plural: string): Promise<string | undefined> {
    const find = (byKind: ReadonlyMap<string, ResourceInfo> | undefined): string | undefined =>
      [...(byKind?.values() ?? [])].find((r) => r.plural === plural)?.kind;
    return find(this.cache.get(apiVersion)) ?? find(await this.load(apiVersion));
  }

  private async load(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    let list: ApiResourceList;
    try {
      list = await this.rest.json<ApiResourceList>({
        method: "GET",
        path: groupVersionPath(apiVersion),
      });
    } catch (err: unknown) {
      if (!isGuardError(err, ErrorCodes.KUBE_NOT_FOUND)) throw err;
      list = {};
    }
    const byKind = new Map<string, ResourceInfo>();
    for (const r of list.resources ?? []) {
      // "deployments/status" and friends are subresources, not kinds of their own.
      if (!r.name.includes("/"))
        byKind.set(r.kind, { apiVersion, kind: r.kind, plural: r.name, namespaced: r.namespaced });
    }
    this.cache.set(apiVersion, byKind);
    return byKind;
  }
}
