// Tenants for the tenancy tests: a service account and the RoleBindings that give it rights, as
// a platform team would create them (the API server's RBAC decides, nothing in the test does).
import { clientAs } from "../../envtest/context.js";

const RBAC = "rbac.authorization.k8s.io/v1";

/** Creates ServiceAccount namespace/name; nothing is bound to it yet. */
export async function createAccount(namespace: string, name: string): Promise<void> {
  await clientAs("admin").create({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace },
  });
}

/** Binds ClusterRole role to account (namespace/name) in namespace `in` only. */
export async function bindInNamespace(
  account: { readonly namespace: string; readonly name: string },
  role: string,
  inNamespace: string,
): Promise<void> {
  await clientAs("admin").create({
    apiVersion: RBAC,
    kind: "RoleBinding",
    metadata: { name: `${account.namespace}-${account.name}-${role}`, namespace: inNamespace },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects: [{ kind: "ServiceAccount", name: account.name, namespace: account.namespace }],
  });
}

/** A tenant: namespace/name with the aggregated `edit` role in each of namespaces. */
export async function tenantAccount(
  namespace: string,
  name: string,
  namespaces: readonly string[] = [namespace],
): Promise<{ namespace: string; name: string; username: string }> {
  await createAccount(namespace, name);
  for (const ns of namespaces) await bindInNamespace({ namespace, name }, "edit", ns);
  return { namespace, name, username: `system:serviceaccount:${namespace}:${name}` };
}

/** An account of namespace whose only rights there are rules (a Role of its own, bound to it). */
export async function accountWithRules(
  namespace: string,
  name: string,
  rules: readonly { apiGroups: string[]; resources: string[]; verbs: string[] }[],
): Promise<{ namespace: string; name: string; username: string }> {
  await createAccount(namespace, name);
  const admin = clientAs("admin");
  await admin.create({ apiVersion: RBAC, kind: "Role", metadata: { name, namespace }, rules });
  await admin.create({
    apiVersion: RBAC,
    kind: "RoleBinding",
    metadata: { name, namespace },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [{ kind: "ServiceAccount", name, namespace }],
  });
  return { namespace, name, username: `system:serviceaccount:${namespace}:${name}` };
}
