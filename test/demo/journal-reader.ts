// The demo's security-team reader: the journal API answers only a bearer token RBAC lets get it
// (the chart ships <release>-journal-reader), so the demo makes one, as a platform team would,
// and a kubeconfig holding it for `gitops-guard audit --server`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KubeClient } from "../../src/kube/client.js";
import type { ControlPlaneInfo } from "../envtest/control-plane.js";
import { kubeconfigYaml } from "../envtest/kubeconfig.js";
import { opsReaderToken } from "../helpers/ops-reader.js";

/** Writes the reader's kubeconfig into the control plane's folder; returns its path. */
export async function journalReaderKubeconfig(
  admin: KubeClient,
  info: ControlPlaneInfo,
): Promise<string> {
  const token = await opsReaderToken(admin, "security-team");
  const file = join(info.dir, "security-team.kubeconfig");
  const text = kubeconfigYaml({
    name: "security-team",
    server: info.apiServerUrl,
    caCert: info.caCert,
    token,
  });
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}
