/**
 * Where the API server reaches the webhook: the URL it is told to call and the names the serving
 * certificate must cover for it. Pure.
 */
import type { ComponentContext } from "../component-context.js";
import { parseHostPort } from "../http/address.js";
import { servingHosts } from "./tls/select.js";

export interface WebhookAddressOptions {
  /** The Service the webhook is behind (in a cluster); default the webhook's account name. */
  readonly serviceName?: string;
  /** --webhook-url: what the API server calls, when it cannot reach this process's address. */
  readonly advertisedUrl?: string;
}

/**
 * The names the serving certificate covers: servingHosts, and the host of the advertised URL
 * (the API server checks the certificate against the host it calls). Pure.
 */
export function webhookHosts(
  config: ComponentContext["config"],
  options: WebhookAddressOptions,
): string[] {
  const hosts = servingHosts({
    serviceName: options.serviceName ?? config.serviceAccounts.webhook,
    namespace: config.namespace,
    listenHost: parseHostPort(config.webhookListen)?.host ?? "",
    inCluster: config.kubeconfig === undefined,
  });
  if (options.advertisedUrl === undefined) return hosts;
  // URL keeps an IPv6 host in brackets; a certificate names the address alone.
  const advertised = new URL(options.advertisedUrl).hostname.replace(/^\[(.*)\]$/, "$1");
  return hosts.includes(advertised) ? hosts : [...hosts, advertised];
}

/** The URL the API server is told to call: the advertised one, else this server's own. */
export function webhookEndpoint(options: WebhookAddressOptions, serverUrl: string): string {
  return options.advertisedUrl ?? serverUrl;
}
