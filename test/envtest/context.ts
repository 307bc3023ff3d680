// What an integration test uses: the shared control plane's info, clients per identity, and a
// namespace of its own that is deleted afterwards.
import { randomBytes } from "node:crypto";
import { inject, onTestFinished } from "vitest";
import { createKubeClient, type KubeClient } from "../../src/kube/client.js";
import type { IdentityName, ControlPlaneInfo } from "./control-plane.js";

export function envtest(): ControlPlaneInfo {
  return inject("envtest");
}

export function clientAs(identity: IdentityName): KubeClient {
  return createKubeClient({ kubeconfig: envtest().kubeconfigs[identity] });
}

/** Creates a fresh namespace for the current test and deletes it when the test finishes. */
export async function testNamespace(prefix = "t"): Promise<string> {
  const admin = clientAs("admin");
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  onTestFinished(async () => {
    await admin.delete({ apiVersion: "v1", kind: "Namespace", name });
  });
  return name;
}

/** Polls until check() holds, failing with what it waited for; bounded in time. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
