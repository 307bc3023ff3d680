import { ErrorCodes, isGuardError } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import { scopeKey, scopesFromCrds, type Scopes } from "../desired.js";
import type { RenderedObject } from "../render/manifests.js";

/**
 * Whether each kind in a render is namespaced: from the API server's discovery, else from a
 * CustomResourceDefinition in the same render (its kinds are not served until it is applied).
 * A kind neither knows is left out; buildDesired reports it with the file that uses it.
 */
export async function resolveScopes(
  kube: KubeClient,
  items: readonly RenderedObject[],
): Promise<Scopes> {
  const fromCrds = scopesFromCrds(items);
  const types = new Map(items.map(({ object }) => [scopeKey(object), object] as const));
  const scopes = new Map<string, boolean>();
  for (const [key, type] of types) {
    try {
      const resource = await kube.resource({ apiVersion: type.apiVersion, kind: type.kind });
      scopes.set(key, resource.namespaced);
    } catch (err: unknown) {
      if (!isGuardError(err, ErrorCodes.KUBE_NOT_FOUND)) throw err;
      const namespaced = fromCrds.get(key);
      if (namespaced !== undefined) scopes.set(key, namespaced);
    }
  }
  return scopes;
}
