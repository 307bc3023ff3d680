/**
 * The cluster as a chart's .Capabilities sees it: the API server's version and every
 * group/version and group/version/Kind it serves, from two aggregated discovery requests
 * (/api and /apis, apidiscovery.k8s.io/v2). Charts that test `.Capabilities.APIVersions.Has
 * "policy/v1/PodDisruptionBudget"` then render as they would with `helm install`.
 */
import type { RestClient } from "../../kube/rest.js";
import type { ClusterFacts } from "./template.js";

const AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

interface DiscoveryList {
  items?: {
    metadata?: { name?: string };
    versions?: { version?: string; resources?: { responseKind?: { kind?: string } }[] }[];
  }[];
}

type GroupVersion = NonNullable<NonNullable<DiscoveryList["items"]>[number]["versions"]>[number];

/** "group/version" and "group/version/Kind" of each resource it serves. */
function entriesOf(group: string, v: GroupVersion): string[] {
  if (v.version === undefined) return [];
  const gv = group === "" ? v.version : `${group}/${v.version}`;
  const kinds = (v.resources ?? []).map((r) => r.responseKind?.kind ?? "").filter((k) => k !== "");
  return [gv, ...kinds.map((kind) => `${gv}/${kind}`)];
}

function versionsOf(list: DiscoveryList): string[] {
  return (list.items ?? []).flatMap((group) =>
    (group.versions ?? []).flatMap((v) => entriesOf(group.metadata?.name ?? "", v)),
  );
}

export async function clusterFacts(rest: RestClient): Promise<ClusterFacts> {
  const version = await rest.json<{ gitVersion?: string }>({ method: "GET", path: "/version" });
  const core = await rest.json<DiscoveryList>({ method: "GET", path: "/api", accept: AGGREGATED });
  const groups = await rest.json<DiscoveryList>({
    method: "GET",
    path: "/apis",
    accept: AGGREGATED,
  });
  const apiVersions = [...new Set([...versionsOf(core), ...versionsOf(groups)])].sort();
  // "v1.35.4+k3s1" and the like: helm wants the semantic version only.
  const kubeVersion = /^v?\d+\.\d+\.\d+/.exec(version.gitVersion ?? "")?.[0];
  return kubeVersion === undefined ? { apiVersions } : { kubeVersion, apiVersions };
}
