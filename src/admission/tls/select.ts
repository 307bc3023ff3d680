/**
 * Which TLS source the component uses. "auto" (the default) serves cert-manager's certificate
 * when the chart mounted one (tls.crt in the directory), and otherwise manages its own CA and
 * certificate in a Secret of gitops-guard's namespace.
 */
import type { KubeClient } from "../../kube/client.js";
import type { Clock } from "../../runtime/clock.js";
import type { Logger } from "../../telemetry/log.js";
import type { RenewalPolicy } from "./bundle.js";
import { fileTlsSource, filesInDirectory, hasCertificateFiles } from "./file-source.js";
import { secretTlsSource } from "./secret-source.js";
import type { TlsSource } from "./source.js";

/** Where the chart mounts cert-manager's Secret when that option is on. */
export const DEFAULT_TLS_DIR = "/etc/gitops-guard/webhook-tls";
export const DEFAULT_TLS_SECRET = "gitops-guard-webhook-tls";

export type TlsOption =
  | { readonly mode: "auto"; readonly dir?: string; readonly secretName?: string }
  | {
      readonly mode: "self-managed";
      readonly secretName?: string;
      readonly renewal?: RenewalPolicy;
      readonly checkIntervalMs?: number;
    }
  | { readonly mode: "files"; readonly dir: string; readonly checkIntervalMs?: number };

export interface TlsContext {
  readonly kube: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly namespace: string;
  readonly hosts: readonly string[];
}

function managedSource(
  option: Exclude<TlsOption, { mode: "files" }>,
  context: TlsContext,
): TlsSource {
  const managed = option.mode === "self-managed" ? option : undefined;
  return secretTlsSource({
    ...context,
    name: option.secretName ?? DEFAULT_TLS_SECRET,
    ...(managed?.renewal === undefined ? {} : { renewal: managed.renewal }),
    ...(managed?.checkIntervalMs === undefined ? {} : { checkIntervalMs: managed.checkIntervalMs }),
  });
}

export async function selectTlsSource(option: TlsOption, context: TlsContext): Promise<TlsSource> {
  if (option.mode === "files") {
    return fileTlsSource(filesInDirectory(option.dir), option.checkIntervalMs);
  }
  const dir = option.mode === "auto" ? (option.dir ?? DEFAULT_TLS_DIR) : undefined;
  if (dir !== undefined && (await hasCertificateFiles(dir))) {
    return fileTlsSource(filesInDirectory(dir));
  }
  return managedSource(option, context);
}

/** The names a serving certificate needs: the Service's DNS names, and loopback out of a cluster. */
export function servingHosts(opts: {
  readonly serviceName: string;
  readonly namespace: string;
  readonly listenHost: string;
  readonly inCluster: boolean;
}): string[] {
  const { serviceName: svc, namespace: ns } = opts;
  const hosts = [svc, `${svc}.${ns}`, `${svc}.${ns}.svc`, `${svc}.${ns}.svc.cluster.local`];
  if (!opts.inCluster) hosts.push("127.0.0.1", "localhost");
  const wildcard = ["0.0.0.0", "::", ""].includes(opts.listenHost);
  if (!wildcard && !hosts.includes(opts.listenHost)) hosts.push(opts.listenHost);
  return hosts;
}
