/**
 * What the REST client needs from a connection to the API server: send one request, get the
 * status and a body to read or stream. HTTP/2 is the normal path (one TLS connection, streams
 * multiplexed, about half the client CPU per request of HTTP/1.1 here); HTTP/1.1 serves plain
 * http:// servers and servers that do not offer h2 in ALPN.
 */

import type { PxfObject } from "node:tls";

/**
 * TLS material from the kubeconfig and its authenticators (client-node's applyToHTTPSOptions);
 * used when a connection is opened. A client certificate comes as cert and key (PEM), or as a
 * PKCS#12 pfx with its passphrase.
 */
export interface TlsOptions {
  readonly ca?: string | Buffer | (string | Buffer)[];
  readonly cert?: string | Buffer | (string | Buffer)[];
  readonly key?: string | Buffer | (string | Buffer)[];
  readonly pfx?: string | Buffer | (string | Buffer | PxfObject)[];
  readonly passphrase?: string;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

/** kubeconfig's proxy-url (proxy.ts): an http:// proxy, and its credentials if it has any. */
export interface HttpProxy {
  readonly host: string;
  readonly port: number;
  /** The Proxy-Authorization value. */
  readonly authorization?: string;
}

export interface WireRequest {
  readonly method: string;
  readonly url: URL;
  /** Lower-case names; an array sends the header once per value (Impersonate-Group). */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly payload?: Buffer;
  readonly signal?: AbortSignal;
  /** Idle time after which the request fails; 0 waits for ever (a watch). */
  readonly timeoutMs: number;
  readonly tls: TlsOptions;
  /** kubeconfig's proxy-url: the same for every request of a client. */
  readonly proxy?: HttpProxy;
}

/** A response body: read it to the end, or destroy it to stop a stream early. */
export interface ResponseBody extends AsyncIterable<Buffer> {
  destroy(): void;
}

export interface WireResponse {
  readonly status: number;
  readonly body: ResponseBody;
}

export interface Transport {
  send(req: WireRequest): Promise<WireResponse>;
  /** Closes idle connections; requests under way finish. */
  close(): void;
}

export async function readAll(body: ResponseBody): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}
