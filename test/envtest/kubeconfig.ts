import { stringify } from "yaml";

const b64 = (pem: string): string => Buffer.from(pem).toString("base64");

/** A kubeconfig with one cluster, one user and one context, all data inline. */
export function kubeconfigYaml(opts: {
  name: string;
  server: string;
  caCert: string;
  clientCert?: { cert: string; key: string };
  token?: string;
}): string {
  const user: Record<string, string> = {};
  if (opts.clientCert !== undefined) {
    user["client-certificate-data"] = b64(opts.clientCert.cert);
    user["client-key-data"] = b64(opts.clientCert.key);
  }
  if (opts.token !== undefined) user["token"] = opts.token;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "envtest",
        cluster: { server: opts.server, "certificate-authority-data": b64(opts.caCert) },
      },
    ],
    users: [{ name: opts.name, user }],
    contexts: [{ name: opts.name, context: { cluster: "envtest", user: opts.name } }],
    "current-context": opts.name,
  });
}
