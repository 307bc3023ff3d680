import type { KubeClient } from "../kube/client.js";
import type { ResourceInfo } from "../kube/paths.js";
import type { KindRef } from "./scope.js";

/**
 * The REST resource of a kind named by group (as policies name kinds): the group's preferred
 * version from discovery, then KubeClient.resource() for the plural and scope.
 */
export async function resolveKind(kube: KubeClient, ref: KindRef): Promise<ResourceInfo> {
  if (ref.apiVersion !== undefined)
    return kube.resource({ apiVersion: ref.apiVersion, kind: ref.kind });
  if (ref.group === "") return kube.resource({ apiVersion: "v1", kind: ref.kind });
  const group = await kube.rest.json<{ preferredVersion?: { groupVersion?: string } }>({
    method: "GET",
    path: `/apis/${encodeURIComponent(ref.group)}`,
  });
  const apiVersion = group.preferredVersion?.groupVersion ?? `${ref.group}/v1`;
  return kube.resource({ apiVersion, kind: ref.kind });
}
