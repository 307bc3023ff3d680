// One admission webhook replica as a process of its own (test/helpers/admission-replica.ts
// starts it): the admission component alone, as the webhook's service account, scoped to one
// test namespace like test/admission/harness.ts, registering the URL of the load balancer in
// front of all replicas. Logs go to stdout; "ready" on stderr once every readiness check passes.
import type { AdmissionOptions } from "../../src/admission/component.js";
import { createAdmissionComponent } from "../../src/admission/component.js";
import { loadConfig } from "../../src/config.js";
import { createServices } from "../../src/main.js";

export interface ReplicaSpec {
  readonly kubeconfig: string;
  readonly systemNamespace: string;
  readonly identity: string;
  /** host:port of its own HTTPS server. */
  readonly listen: string;
  readonly webhookUser: string;
  readonly options: AdmissionOptions;
}

function main(spec: ReplicaSpec): void {
  const config = loadConfig({
    flags: {
      kubeconfig: spec.kubeconfig,
      webhookListen: spec.listen,
      opsListen: "127.0.0.1:0",
      namespace: spec.systemNamespace,
      identity: spec.identity,
    },
    env: {},
    hostname: spec.identity,
  });
  const services = createServices(config);
  const component = createAdmissionComponent(
    {
      ...services,
      config,
      logger: services.logger.child({ component: "admission" }),
      kube: services.kube.impersonating({ user: spec.webhookUser }),
    },
    spec.options,
  );
  const abort = new AbortController();
  process.once("SIGTERM", () => {
    abort.abort();
  });
  const ready = setInterval(() => {
    if (!Object.values(component.readiness()).every(Boolean)) return;
    clearInterval(ready);
    process.stderr.write("ready\n");
  }, 50);
  component.run(abort.signal).then(
    () => {
      clearInterval(ready);
      services.kube.rest.close();
    },
    (err: unknown) => {
      process.stderr.write(`admission replica failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
}

main(JSON.parse(process.argv[2] ?? "{}") as ReplicaSpec);
