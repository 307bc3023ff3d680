/** REST paths of the Kubernetes API, built from a resolved resource. Pure. */
export interface ResourceInfo {
  readonly apiVersion: string;
  readonly kind: string;
  /** The plural resource name used in URLs, such as "deployments". */
  readonly plural: string;
  readonly namespaced: boolean;
}

export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The collection: all namespaces when namespace is absent for a namespaced resource. */
export function collectionPath(resource: ResourceInfo, namespace?: string): string {
  const base = groupVersionPath(resource.apiVersion);
  if (!resource.namespaced || namespace === undefined || namespace === "") {
    return `${base}/${resource.plural}`;
  }
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`;
}

export function objectPath(
  resource: ResourceInfo,
  ref: { readonly namespace?: string | undefined; readonly name: string },
  subresource?: string,
): string {
  const path = `${collectionPath(resource, resource.namespaced ? ref.namespace : undefined)}/${encodeURIComponent(ref.name)}`;
  return subresource === undefined ? path : `${path}/${subresource}`;
}
