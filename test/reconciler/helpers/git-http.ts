// A smart-HTTP Git server on 127.0.0.1: git's own `git http-backend` CGI behind a small Node
// HTTP server that demands a token, so the reconciler's HTTPS credential path speaks real Git
// protocol (only the TLS layer is left out).
import { spawn } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface GitHttpServer {
  /** http://127.0.0.1:PORT/<name> for a repository folder directly under root. */
  url(name: string): string;
  /** Requests answered, with the Authorization header each carried. */
  readonly requests: { path: string; authorized: boolean }[];
  close(): Promise<void>;
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? "";
  if (header === `Bearer ${token}`) return true;
  if (!header.startsWith("Basic ")) return false;
  const [, password] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":");
  return password === token;
}

function cgiEnv(req: IncomingMessage, root: string): Record<string, string> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ""),
    REQUEST_METHOD: req.method ?? "GET",
    CONTENT_TYPE: req.headers["content-type"] ?? "",
    REMOTE_USER: "token-user",
    REMOTE_ADDR: "127.0.0.1",
  };
  const protocol = req.headers["git-protocol"];
  if (typeof protocol === "string") env["GIT_PROTOCOL"] = protocol;
  const encoding = req.headers["content-encoding"];
  if (typeof encoding === "string") env["HTTP_CONTENT_ENCODING"] = encoding;
  return env;
}

/** Forwards one request to git http-backend and its CGI answer back. */
function serveCgi(req: IncomingMessage, res: ServerResponse, root: string): void {
  const child = spawn("git", ["http-backend"], { env: cgiEnv(req, root) });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
      const colon = line.indexOf(":");
      const [name, value] = [line.slice(0, colon), line.slice(colon + 1).trim()];
      if (name.toLowerCase() === "status") status = Number(value.split(" ")[0]);
      else res.setHeader(name, value);
    }
    res.statusCode = status;
    res.write(head.subarray(end + 4));
  });
  child.on("close", () => res.end());
}

export async function serveGitHttp(root: string, token: string): Promise<GitHttpServer> {
  const requests: { path: string; authorized: boolean }[] = [];
  const server = createServer((req, res) => {
    const ok = authorized(req, token);
    requests.push({ path: req.url ?? "", authorized: ok });
    if (!ok) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end("unauthorized\n");
      req.resume();
      return;
    }
    serveCgi(req, res, root);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
