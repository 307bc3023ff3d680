// One real control plane per test run, shared by every integration test file; each test
// works in a namespace of its own (see test/envtest/context.ts).
import type { TestProject } from "vitest/node";
import { startControlPlane, type ControlPlaneInfo } from "./control-plane.js";

declare module "vitest" {
  export interface ProvidedContext {
    envtest: ControlPlaneInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cp = await startControlPlane({ workloads: true });
  process.stdout.write(
    `envtest: control plane ready in ${cp.info.startMs} ms at ${cp.info.apiServerUrl}\n`,
  );
  project.provide("envtest", cp.info);
  const onSignal = (): void => {
    void cp.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await cp.stop();
  };
}
