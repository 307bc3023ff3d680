import { ErrorCodes, GuardError } from "../../errors.js";
import type { KubeObject } from "../../kube/objects.js";
import type { SyncEnvironment, SyncRequest } from "../sync.js";
import { decryptionKeys } from "./decryption-secret.js";
import { sopsFiles, type SopsFiles } from "./sops.js";

/**
 * The GitSync's SOPS keys (spec.decryption.secretRef), read fresh for every sync. With
 * spec.decryption but no Secret, only the controller's own AWS identity, when it lends it.
 */
export async function sopsFor(
  env: Pick<SyncEnvironment, "kube" | "sopsKms">,
  req: Pick<SyncRequest, "namespace" | "spec">,
): Promise<SopsFiles | undefined> {
  const name = req.spec.decryptionSecretName;
  if (name === undefined) {
    const ambient = req.spec.decryption === true && env.sopsKms.ambientCredentials;
    return ambient ? sopsFiles({ age: [] }, env.sopsKms) : undefined;
  }
  const secret = await env.kube.get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "Secret",
    namespace: req.namespace,
    name,
  });
  if (secret === undefined) {
    throw new GuardError(
      ErrorCodes.RENDER_SOPS_FAILED,
      `Secret ${req.namespace}/${name} (spec.decryption.secretRef) does not exist`,
    );
  }
  const secretName = `${req.namespace}/${name}`;
  const keys = await decryptionKeys(secretName, secret.data ?? {}, env.sopsKms.ambientCredentials);
  return sopsFiles(keys, env.sopsKms, `Secret ${secretName}`);
}
