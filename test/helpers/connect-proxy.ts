/**
 * A real HTTP proxy on loopback, for tests of kubeconfig's proxy-url: CONNECT tunnels (piped to
 * the target) and absolute-form requests (forwarded), recording what it was asked. It can
 * refuse every request with a status instead, as a proxy that wants credentials does.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";

export interface ProxyRequest {
  readonly method: string;
  /** host:port for CONNECT, the whole URL for an absolute-form request. */
  readonly target: string;
  readonly proxyAuthorization: string | undefined;
}

export interface RunningProxy {
  readonly url: string;
  readonly requests: readonly ProxyRequest[];
  /** Connections from clients that are still open. */
  openClients(): number;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Answer every request with this status and open nothing (407, 403). */
  readonly refuse?: number;
}

function record(requests: ProxyRequest[], req: IncomingMessage): void {
  const auth = req.headers["proxy-authorization"];
  requests.push({ method: req.method ?? "", target: req.url ?? "", proxyAuthorization: auth });
}

function tunnel(req: IncomingMessage, client: Socket, head: Buffer, sockets: Set<Socket>): void {
  const [host, port] = splitAuthority(req.url ?? "");
  const upstream = connect(port, host, () => {
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream).pipe(client);
  });
  sockets.add(upstream);
  upstream.once("close", () => sockets.delete(upstream));
  upstream.on("error", () => client.destroy());
  client.on("error", () => upstream.destroy());
  client.once("close", () => upstream.destroy());
  upstream.once("close", () => client.destroy());
}

function splitAuthority(authority: string): [string, number] {
  const colon = authority.lastIndexOf(":");
  return [authority.slice(0, colon).replace(/^\[|\]$/g, ""), Number(authority.slice(colon + 1))];
}

function forward(req: IncomingMessage, res: ServerResponse): void {
  const target = new URL(req.url ?? "");
  const headers = { ...req.headers };
  delete headers["proxy-authorization"];
  const upstream = httpRequest(target, { method: req.method ?? "GET", headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", () => res.destroy());
  req.pipe(upstream);
}

export async function startConnectProxy(options: ProxyOptions = {}): Promise<RunningProxy> {
  const requests: ProxyRequest[] = [];
  const clients = new Set<Socket>();
  const upstreams = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    record(requests, req);
    if (options.refuse !== undefined) {
      res.writeHead(options.refuse).end();
      return;
    }
    forward(req, res);
  });
  server.on("connection", (socket: Socket) => {
    clients.add(socket);
    socket.once("close", () => clients.delete(socket));
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    record(requests, req);
    if (options.refuse === undefined) tunnel(req, client, head, upstreams);
    else client.end(`HTTP/1.1 ${String(options.refuse)} Refused\r\nContent-Length: 0\r\n\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    requests,
    openClients: () => clients.size,
    close: async () => {
      for (const socket of [...clients, ...upstreams]) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
