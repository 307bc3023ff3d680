import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type RequestOptions,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { TunnelAgent } from "./proxy.js";
import type { HttpProxy, Transport, WireRequest, WireResponse } from "./transport.js";

type Headers = Record<string, string | string[]>;

function newAgent(req: WireRequest): HttpsAgent | HttpAgent {
  if (req.url.protocol !== "https:") return new HttpAgent({ keepAlive: true });
  if (req.proxy !== undefined) return new TunnelAgent(req.proxy, req.tls);
  return new HttpsAgent({ keepAlive: true, ...req.tls });
}

type Options = RequestOptions & { headers: Headers };

/**
 * A request to an http:// server behind a proxy goes to the proxy, with the whole URL as its
 * target (absolute form). One to an https:// server goes through the TunnelAgent's tunnel.
 */
function viaProxy(url: URL, proxy: HttpProxy, options: Options): RequestOptions {
  options.headers["host"] = url.host;
  if (proxy.authorization !== undefined)
    options.headers["proxy-authorization"] = proxy.authorization;
  return { ...options, host: proxy.host, port: proxy.port, path: url.href };
}

function start(
  req: WireRequest,
  options: Options,
  onResponse: (res: IncomingMessage) => void,
): ClientRequest {
  if (req.url.protocol === "https:") {
    // The request's own timeout starts once it has a socket: the tunnel takes this one.
    const tunnelled = req.proxy === undefined ? options : { ...options, timeout: req.timeoutMs };
    return httpsRequest(req.url, tunnelled, onResponse);
  }
  if (req.proxy === undefined) return httpRequest(req.url, options, onResponse);
  return httpRequest(viaProxy(req.url, req.proxy, options), onResponse);
}

/** HTTP/1.1 with keep-alive connections: for http:// servers and servers without h2. */
export function createHttp1Transport(): Transport {
  let agent: HttpsAgent | HttpAgent | undefined;
  return {
    send(req: WireRequest): Promise<WireResponse> {
      agent ??= newAgent(req);
      const headers: Headers = {};
      for (const [name, value] of Object.entries(req.headers))
        headers[name] = typeof value === "string" ? value : [...value];
      if (req.payload !== undefined) headers["content-length"] = String(req.payload.length);
      const options = { method: req.method, headers, agent, signal: req.signal };
      return new Promise((resolve, reject) => {
        const r = start(req, options, (res) => {
          resolve({ status: res.statusCode ?? 0, body: res });
        });
        if (req.timeoutMs > 0) {
          r.setTimeout(req.timeoutMs, () =>
            r.destroy(new Error(`no answer in ${String(req.timeoutMs)} ms`)),
          );
        }
        r.on("error", reject);
        r.end(req.payload);
      });
    },
    close(): void {
      agent?.destroy();
      agent = undefined;
    },
  };
}
