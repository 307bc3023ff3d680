/**
 * kubeconfig's proxy-url, read as client-go reads an http:// proxy: a request to an https://
 * server goes through a CONNECT tunnel, with TLS (and HTTP/2) end to end to the API server
 * inside it; a request to an http:// server is sent to the proxy in absolute form. Credentials
 * in the proxy URL become Proxy-Authorization. Other proxy schemes (https://, socks5://) are
 * refused when the client is made: ignoring them would bypass a proxy the cluster requires.
 */
import { request as httpRequest, type ClientRequestArgs } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { isIP, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { ErrorCodes, GuardError } from "../errors.js";
import type { HttpProxy, TlsOptions } from "./transport.js";

/** How long the proxy may take to open a tunnel for a request with no timeout (a watch). */
export const TUNNEL_TIMEOUT_MS = 30_000;

export interface Target {
  readonly host: string;
  readonly port: number;
}

/** The proxy of a kubeconfig cluster; undefined without one. Throws KUBECONFIG_INVALID. */
export function parseProxyUrl(raw: unknown): HttpProxy | undefined {
  // As parsed from YAML: null when absent.
  if (raw === undefined || raw === null || raw === "") return undefined;
  let url: URL;
  try {
    if (typeof raw !== "string") throw new TypeError("not a string");
    url = new URL(raw);
  } catch {
    // Neither echoed nor kept as the cause (Node's URL error holds the input): the URL may
    // carry the proxy's password.
    throw new GuardError(ErrorCodes.KUBECONFIG_INVALID, "the cluster's proxy-url is not a URL");
  }
  if (url.protocol !== "http:") {
    const message = `proxy-url ${url.protocol}// is not supported: only http:// proxies are`;
    throw new GuardError(ErrorCodes.KUBECONFIG_INVALID, message);
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port || "80");
  if (url.username === "") return { host, port };
  const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { host, port, authorization: `Basic ${Buffer.from(credentials).toString("base64")}` };
}

function authorityOf(target: Target): string {
  const host = isIP(target.host) === 6 ? `[${target.host}]` : target.host;
  return `${host}:${String(target.port)}`;
}

/**
 * A TCP stream to target through the proxy. Rejects when the proxy refuses (any status but
 * 200), fails, or has not answered within timeoutMs; the proxy connection is closed then.
 */
export function openTunnel(proxy: HttpProxy, target: Target, timeoutMs: number): Promise<Socket> {
  const authority = authorityOf(target);
  const via = authorityOf(proxy);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: proxy.host,
      port: proxy.port,
      method: "CONNECT",
      path: authority,
      agent: false,
      headers: {
        host: authority,
        ...(proxy.authorization === undefined
          ? {}
          : { "proxy-authorization": proxy.authorization }),
      },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`proxy ${via} opened no tunnel in ${String(timeoutMs)} ms`));
    }, timeoutMs);
    req.once("connect", (res, socket, head) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        socket.destroy();
        const status = `${String(res.statusCode)} ${res.statusMessage ?? ""}`.trim();
        reject(new Error(`proxy ${via} refused CONNECT ${authority}: ${status}`));
        return;
      }
      // Bytes the proxy sent after its answer belong to the tunnel (the server's first TLS
      // record, should it be that quick).
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** TLS to target over an open tunnel, verified against target's name as a direct one is. */
export function tlsThrough(
  tunnel: Socket,
  target: Target,
  tls: TlsOptions,
  alpn?: readonly string[],
): TLSSocket {
  const servername = tls.servername ?? (isIP(target.host) === 0 ? target.host : undefined);
  return tlsConnect({
    ...tls,
    // host names what the certificate must match; the bytes go over the tunnel.
    socket: tunnel,
    host: target.host,
    port: target.port,
    ...(servername === undefined ? {} : { servername }),
    ...(alpn === undefined ? {} : { ALPNProtocols: [...alpn] }),
  });
}

type OnConnection = (err: Error | null, stream: Duplex) => void;

/**
 * HTTP/1.1 keep-alive connections to an https:// server through the proxy: the agent pools
 * them as usual, and only opening one takes the tunnel (Agent.createConnection's documented
 * asynchronous form).
 */
export class TunnelAgent extends HttpsAgent {
  private readonly proxy: HttpProxy;
  private readonly tls: TlsOptions;

  constructor(proxy: HttpProxy, tls: TlsOptions) {
    super({ keepAlive: true });
    this.proxy = proxy;
    this.tls = tls;
  }

  override createConnection(options: ClientRequestArgs, callback?: OnConnection): undefined {
    const host = (options.hostname ?? options.host ?? "localhost").replace(/^\[|\]$/g, "");
    const target = { host, port: Number(options.port ?? 443) };
    const timeoutMs =
      options.timeout !== undefined && options.timeout > 0 ? options.timeout : TUNNEL_TIMEOUT_MS;
    openTunnel(this.proxy, target, timeoutMs).then(
      (tunnel) => callback?.(null, tlsThrough(tunnel, target, this.tls)),
      (err: unknown) => {
        // Node's agent reads no stream when err is set; its typings ask for one all the same.
        callback?.(err instanceof Error ? err : new Error(String(err)), undefined as never);
      },
    );
    return undefined;
  }
}
