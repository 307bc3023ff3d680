// Reading the ops port's /metrics and journal in tests, as a real caller does: a service
// account's token from a TokenRequest (made as admin), and RBAC that lets it get the paths.
import { onTestFinished } from "vitest";
import { PROTECTED_PATHS } from "../../src/http/ops.js";
import { clientAs, eventually } from "../envtest/context.js";
import { requestToken } from "./ops-reader.js";

const SA = { apiVersion: "v1", kind: "ServiceAccount" } as const;

export const bearer = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});

export const serviceAccountUser = (namespace: string, name: string): string =>
  `system:serviceaccount:${namespace}:${name}`;

/** A fresh token of namespace/name (the account is created when missing); an hour long. */
export async function serviceAccountToken(namespace: string, name: string): Promise<string> {
  const admin = clientAs("admin");
  if ((await admin.get({ ...SA, namespace, name })) === undefined) {
    await admin.create({ ...SA, metadata: { namespace, name } });
  }
  return requestToken(admin, namespace, name);
}

/**
 * Waits until RBAC answers `allowed` for user doing verb on a non-resource path (or, with
 * resource, creating it): the authorizer learns new bindings through an informer. Asked
 * directly, as admin, so no cache of the code under test keeps a stale answer.
 */
export async function waitForAccess(
  user: string,
  what: { path?: string; resource?: { group: string; resource: string } },
  allowed = true,
): Promise<void> {
  const admin = clientAs("admin");
  const spec = {
    user,
    groups: ["system:serviceaccounts", "system:authenticated"],
    ...(what.path === undefined ? {} : { nonResourceAttributes: { path: what.path, verb: "get" } }),
    ...(what.resource === undefined
      ? {}
      : { resourceAttributes: { ...what.resource, verb: "create" } }),
  };
  await eventually(
    `${user} to be ${allowed ? "allowed" : "denied"} ${JSON.stringify(what)}`,
    async () => {
      const review = await admin.rest.json<{ status?: { allowed?: boolean } }>({
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec },
      });
      return (review.status?.allowed === true) === allowed;
    },
  );
}

const readers = new Map<string, Promise<string>>();

/**
 * A token allowed to read every protected ops path, for tests about something else that read
 * /metrics or the journal: a ClusterRole of the namespace's own, removed afterwards. The same
 * token for every call in a namespace, so a test may ask in a polling loop.
 */
export function opsReaderToken(namespace: string): Promise<string> {
  let token = readers.get(namespace);
  if (token === undefined) {
    token = makeOpsReader(namespace);
    readers.set(namespace, token);
  }
  return token;
}

async function makeOpsReader(namespace: string): Promise<string> {
  const admin = clientAs("admin");
  const name = `${namespace}-ops-reader`;
  const asked = Object.values(PROTECTED_PATHS);
  const rbac = "rbac.authorization.k8s.io/v1";
  await admin.create({
    apiVersion: rbac,
    kind: "ClusterRole",
    metadata: { name },
    rules: [{ nonResourceURLs: [...asked, ...asked.map((p) => `${p}/*`)], verbs: ["get"] }],
  });
  await admin.create({
    apiVersion: rbac,
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: [{ kind: "ServiceAccount", name: "ops-reader", namespace }],
  });
  onTestFinished(async () => {
    readers.delete(namespace);
    await admin.delete({ apiVersion: rbac, kind: "ClusterRoleBinding", name });
    await admin.delete({ apiVersion: rbac, kind: "ClusterRole", name });
  });
  const token = await serviceAccountToken(namespace, "ops-reader");
  for (const path of asked)
    await waitForAccess(serviceAccountUser(namespace, "ops-reader"), { path });
  return token;
}
