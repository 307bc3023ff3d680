/**
 * The push secrets live in a Secret of the controller's namespace (keys github, gitlab and
 * generic), read on every push: rotating them needs no restart, and they never sit in the
 * environment or in a file of the image.
 */
import { ErrorCodes, GuardError } from "../../errors.js";
import type { KubeClient } from "../../kube/client.js";
import type { KubeObject } from "../../kube/objects.js";
import type { PushSecrets } from "./signature.js";

export const PUSH_SECRET_KEYS = ["github", "gitlab", "generic"] as const;

export async function readPushSecrets(
  kube: KubeClient,
  where: { readonly namespace: string; readonly name: string },
): Promise<PushSecrets> {
  const secret = await kube.get<KubeObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "Secret",
    ...where,
  });
  if (secret === undefined) {
    throw new GuardError(
      ErrorCodes.PUSH_NOT_CONFIGURED,
      `push is not configured: Secret ${where.namespace}/${where.name} (keys ${PUSH_SECRET_KEYS.join(", ")}) does not exist`,
    );
  }
  const out: Record<string, string> = {};
  for (const key of PUSH_SECRET_KEYS) {
    const value = secret.data?.[key];
    if (value !== undefined) out[key] = Buffer.from(value, "base64").toString("utf8").trim();
  }
  return out;
}
