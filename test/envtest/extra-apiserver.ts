// A second kube-apiserver on the shared etcd, owned by one test: it can be stopped and started
// again on the same port without disturbing the other tests, to prove recovery after an outage.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBinaries } from "./binaries.js";
import { startApiServer, type ControlPlaneInfo } from "./control-plane.js";
import { kubeconfigYaml } from "./kubeconfig.js";
import { makeClientCert } from "./pki.js";
import { freePort, type ManagedProcess } from "./processes.js";

export interface ExtraApiServer {
  readonly url: string;
  /** An admin kubeconfig that talks to this API server only. */
  readonly kubeconfig: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ExtraApiServerOptions {
  /** More kube-apiserver flags, such as --audit-webhook-config-file and --audit-policy-file. */
  readonly extraArgs?: readonly string[];
}

export async function extraApiServer(
  info: ControlPlaneInfo,
  options: ExtraApiServerOptions = {},
): Promise<ExtraApiServer> {
  const bin = ensureBinaries();
  const port = await freePort();
  const ca = { cert: info.caCert, key: info.caKey };
  const admin = makeClientCert(ca, { user: "envtest-admin-2", groups: ["system:masters"] });
  const pki = join(info.dir, "pki");
  const files = {
    caCert: join(pki, "ca.crt"),
    caKey: join(pki, "ca.key"),
    servingCert: join(pki, "apiserver.crt"),
    servingKey: join(pki, "apiserver.key"),
    saPub: join(pki, "sa.pub"),
    saKey: join(pki, "sa.key"),
  };
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(info.dir, `extra-${port}.kubeconfig`);
  writeFileSync(
    kubeconfig,
    kubeconfigYaml({ name: "extra", server: url, caCert: info.caCert, clientCert: admin }),
  );
  let proc: ManagedProcess | undefined;
  return {
    url,
    kubeconfig,
    async start() {
      proc = await startApiServer({
        bin,
        dir: info.dir,
        files,
        etcdUrl: info.etcdUrl,
        port,
        admin,
        ca: info.caCert,
        name: `kube-apiserver-${port}`,
        ...(options.extraArgs === undefined ? {} : { extraArgs: options.extraArgs }),
      });
    },
    async stop() {
      await proc?.stop();
      proc = undefined;
    },
  };
}
