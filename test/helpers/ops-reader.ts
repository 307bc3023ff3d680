// A reader of the ops port's protected paths (/metrics, the journal API) outside vitest (the
// demo, the benches): what a platform team sets up for Prometheus or a security team. A service
// account bound to a ClusterRole for those paths, and a token from a TokenRequest.
import { PROTECTED_PATHS } from "../../src/http/ops.js";
import type { KubeClient } from "../../src/kube/client.js";

const RBAC = "rbac.authorization.k8s.io/v1";
const NAMESPACE = "gitops-guard-system";
const ROLE = "gitops-guard-ops-reader";

/** Creates (or reuses) account NAMESPACE/name with the reader role; returns a 1-hour token. */
export async function opsReaderToken(admin: KubeClient, name = "ops-reader"): Promise<string> {
  const paths = Object.values(PROTECTED_PATHS);
  await admin.apply({
    apiVersion: RBAC,
    kind: "ClusterRole",
    metadata: { name: ROLE },
    rules: [{ nonResourceURLs: [...paths, ...paths.map((p) => `${p}/*`)], verbs: ["get"] }],
  });
  await admin.apply({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace: NAMESPACE },
  });
  await admin.apply({
    apiVersion: RBAC,
    kind: "ClusterRoleBinding",
    metadata: { name: `${ROLE}-${name}` },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: ROLE },
    subjects: [{ kind: "ServiceAccount", name, namespace: NAMESPACE }],
  });
  return requestToken(admin, NAMESPACE, name);
}

/** A one-hour token of namespace/name from a TokenRequest (the account must exist). */
export async function requestToken(
  admin: KubeClient,
  namespace: string,
  name: string,
): Promise<string> {
  const request = await admin.rest.json<{ status?: { token?: string } }>({
    method: "POST",
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    body: {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    },
  });
  const token = request.status?.token;
  if (token === undefined)
    throw new Error(`the TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

/** GET url with the token, as Prometheus scrapes; the body, or an error naming the status. */
export async function fetchWithToken(url: string, token: string): Promise<string> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: ${String(res.status)} ${text.slice(0, 200)}`);
  return text;
}
