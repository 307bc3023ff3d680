import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Transport, WireRequest, WireResponse } from "./transport.js";

/** HTTP/1.1 with keep-alive connections: for http:// servers and servers without h2. */
export function createHttp1Transport(): Transport {
  let agent: HttpsAgent | HttpAgent | undefined;
  const agentFor = (req: WireRequest): HttpsAgent | HttpAgent => {
    agent ??=
      req.url.protocol === "https:"
        ? new HttpsAgent({ keepAlive: true, ...req.tls })
        : new HttpAgent({ keepAlive: true });
    return agent;
  };
  return {
    send(req: WireRequest): Promise<WireResponse> {
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(req.headers))
        headers[name] = typeof value === "string" ? value : [...value];
      if (req.payload !== undefined) headers["content-length"] = String(req.payload.length);
      const doRequest = req.url.protocol === "https:" ? httpsRequest : httpRequest;
      return new Promise((resolve, reject) => {
        const r = doRequest(
          req.url,
          { method: req.method, headers, agent: agentFor(req), signal: req.signal },
          (res: IncomingMessage) => {
            resolve({ status: res.statusCode ?? 0, body: res });
          },
        );
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
