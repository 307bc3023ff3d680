/**
 * What the REST client needs from a connection to the API server: send one request, get the
 * status and a body to read or stream. HTTP/2 is the normal path (one TLS connection, streams
 * multiplexed, about half the client CPU per request of HTTP/1.1 here); HTTP/1.1 serves plain
 * http:// servers and servers that do not offer h2 in ALPN.
 */

/** TLS material from the kubeconfig; used when a connection is opened. */
export interface TlsOptions {
  readonly ca?: string | Buffer | (string | Buffer)[];
  readonly cert?: string | Buffer | (string | Buffer)[];
  readonly key?: string | Buffer | (string | Buffer)[];
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
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
