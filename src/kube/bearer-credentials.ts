/**
 * A kubeconfig user's credentials for a server other than the API server that checks them with
 * the API server (the ops port's journal, through a TokenReview): its bearer token, whether the
 * kubeconfig holds it, a token file, an exec plugin or an auth provider supplies it. Client
 * certificates and basic auth cannot be passed on that way, so they are reported, not sent.
 */
import type { RequestOptions } from "node:https";
import { loadKubeConfig } from "./kubeconfig.js";

export interface BearerCredentials {
  /** The kubeconfig's name for the user, for messages ("(in-cluster)" in a pod). */
  readonly user: string;
  /** Whether the user has a client certificate (useless outside a TLS connection to the API server). */
  readonly clientCertificate: boolean;
  /** The Authorization header value, asked afresh each time (exec plugins and token files
   * rotate); undefined when the user has no bearer token. */
  authorization(): Promise<string | undefined>;
}

function headerOf(opts: RequestOptions): string | undefined {
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    // Basic credentials are the API server's business alone: never sent elsewhere.
    if (name.toLowerCase() === "authorization" && typeof value === "string") {
      return /^bearer /i.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** The credentials of the kubeconfig files' current user, or of the pod's service account. */
export function bearerCredentials(kubeconfig?: string | readonly string[]): BearerCredentials {
  const kc = loadKubeConfig(kubeconfig);
  const user = kc.getCurrentUser();
  // As parsed from YAML: absent fields are undefined or null, whatever the typings say.
  const fields = (user ?? {}) as unknown as Record<string, unknown>;
  const has = (name: string): boolean => typeof fields[name] === "string" && fields[name] !== "";
  return {
    user: kubeconfig === undefined ? "(in-cluster)" : (user?.name ?? "(none)"),
    clientCertificate: ["certData", "certFile"].some(has),
    authorization: async () => {
      const opts: RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      return headerOf(opts);
    },
  };
}
