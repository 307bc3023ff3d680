// The REST client's transports against loopback TLS servers: HTTP/2 when the server offers h2,
// HTTP/1.1 when it does not or when asked, headers (bearer token, Basic auth, impersonation), a PKCS#12 client certificate, statuses,
// streams, timeouts, a server that drops the connection, and a process that exits when idle.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type ServerHttp2Session,
} from "node:http2";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import {
  connect as connectTcp,
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import forge from "node-forge";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { IncomingMessage } from "node:http";
import { ErrorCodes } from "../../src/errors.js";
import { createKubeClient, loadKubeConfig, type KubeClient } from "../../src/kube/client.js";
import { createHttp1Transport } from "../../src/kube/http1-transport.js";
import { createHttp2Transport } from "../../src/kube/http2-transport.js";
import { createRestClient } from "../../src/kube/rest.js";
import { makeClientCert } from "../envtest/pki.js";
import { makeServingCert, makeTestCa, type TestCa, type TestCert } from "../helpers/tls.js";

type Req = IncomingMessage | Http2ServerRequest;
/** What both servers' responses have in common, as far as the handler uses them. */
interface Res {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): unknown;
  end(chunk?: string): unknown;
}

interface Seen {
  readonly httpVersion: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawHeaders: string[];
}

const TOKEN = "transport-test-token";
let ca: TestCa;
let dir: string;
let seen: Seen[] = [];
const servers: (Http2SecureServer | HttpsServer | TcpServer)[] = [];
/** Every connection the servers accepted: closed at the end, whatever state a test left. */
const connections: Socket[] = [];

/** Answers like the API server would, for the few paths these tests use. */
function handler(req: Req, response: unknown): void {
  const res = response as Res;
  seen.push({
    httpVersion: req.httpVersion,
    path: req.url ?? "",
    headers: req.headers,
    rawHeaders: req.rawHeaders,
  });
  const url = new URL(req.url ?? "/", "https://x");
  if (url.pathname === "/api/v1/namespaces/ns/configmaps/cm") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" } }));
  } else if (url.pathname === "/api/v1/namespaces/ns/configmaps" && url.searchParams.has("watch")) {
    res.writeHead(200, { "content-type": "application/json" });
    let n = 0;
    const timer = setInterval(() => {
      n++;
      res.write(`${JSON.stringify({ type: "ADDED", object: { metadata: { name: `e${n}` } } })}\n`);
      if (n === 3) {
        clearInterval(timer);
        res.end();
      }
    }, 20);
  } else if (url.pathname === "/forever") {
    // One event, then an open stream: a watch with nothing new to say.
    res.writeHead(200, { "content-type": "application/json" });
    res.write(`${JSON.stringify({ type: "ADDED", object: { metadata: { name: "e1" } } })}\n`);
  } else if (url.pathname === "/slow") {
    // Never answers: the client's timeout must end it.
  } else {
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ kind: "Status", reason: "NotFound", message: `no ${url.pathname}` }));
  }
}

async function listen(server: Http2SecureServer | HttpsServer | TcpServer): Promise<number> {
  servers.push(server);
  server.on("connection", (socket: Socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function kubeconfig(port: number, user = `token: ${TOKEN}`): string {
  const file = join(dir, `kubeconfig-${String(port)}`);
  const caData = Buffer.from(ca.cert).toString("base64");
  writeFileSync(
    file,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- name: c\n  cluster:\n    server: https://127.0.0.1:${String(port)}\n    certificate-authority-data: ${caData}`,
      `users:\n- name: u\n  user:\n    ${user}`,
      "contexts:\n- name: x\n  context:\n    cluster: c\n    user: u",
      "current-context: x",
      "",
    ].join("\n"),
  );
  return file;
}

async function h2Server(opts: { allowHTTP1: boolean }): Promise<number> {
  const serving = makeServingCert(ca, ["127.0.0.1"]);
  return listen(createSecureServer({ ...serving, allowHTTP1: opts.allowHTTP1 }, handler));
}

async function http1Server(): Promise<number> {
  const serving = makeServingCert(ca, ["127.0.0.1"]);
  return listen(createHttpsServer(serving, handler));
}

async function getCm(kube: KubeClient, timeoutMs?: number): Promise<unknown> {
  return kube.rest.json({
    method: "GET",
    path: "/api/v1/namespaces/ns/configmaps/cm",
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

/** The client certificate as one PKCS#12 file, the way a .p12 from a CA portal comes. */
function pkcs12(pair: TestCert): { pfx: Buffer; passphrase: string } {
  const passphrase = "p12-test";
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(pair.key),
    [forge.pki.certificateFromPem(pair.cert)],
    passphrase,
    { algorithm: "aes256" },
  );
  return { pfx: Buffer.from(forge.asn1.toDer(asn1).getBytes(), "binary"), passphrase };
}

beforeAll(() => {
  ca = makeTestCa();
  dir = mkdtempSync(join(tmpdir(), "gitops-guard-transport-"));
});

afterEach(() => {
  seen = [];
});

afterAll(async () => {
  for (const c of connections) c.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

describe("kube transport", () => {
  it("talks HTTP/2 over one connection to a server that offers h2, with the bearer token", async () => {
    const port = await h2Server({ allowHTTP1: false });
    const kube = createKubeClient({ kubeconfig: kubeconfig(port) });
    const answers = await Promise.all([getCm(kube), getCm(kube), getCm(kube)]);
    expect(answers).toEqual(
      Array(3).fill({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" } }),
    );
    expect(seen.map((s) => s.httpVersion)).toEqual(["2.0", "2.0", "2.0"]);
    expect(seen[0]?.headers["authorization"]).toBe(`Bearer ${TOKEN}`);
    expect(seen[0]?.headers["accept"]).toBe("application/json");
    kube.rest.close();
  });

  it("sends every impersonated group as its own header over HTTP/2", async () => {
    const port = await h2Server({ allowHTTP1: false });
    const kube = createKubeClient({ kubeconfig: kubeconfig(port) }).impersonating({
      user: "system:serviceaccount:ns:sa",
      groups: ["g1", "g2"],
    });
    await getCm(kube);
    const raw = seen[0]?.rawHeaders ?? [];
    const groups = raw.filter((_, i) => i % 2 === 1 && raw[i - 1] === "impersonate-group");
    expect(groups).toEqual(["g1", "g2"]);
    expect(seen[0]?.headers["impersonate-user"]).toBe("system:serviceaccount:ns:sa");
    kube.rest.close();
  });

  it("falls back to HTTP/1.1 when the server does not offer h2, and when told to", async () => {
    const only1 = await http1Server();
    const fallback = createKubeClient({ kubeconfig: kubeconfig(only1) });
    expect(await getCm(fallback)).toMatchObject({ kind: "ConfigMap" });
    expect(await getCm(fallback)).toMatchObject({ kind: "ConfigMap" });
    const both = await h2Server({ allowHTTP1: true });
    const told = createKubeClient({ kubeconfig: kubeconfig(both), http2: false });
    expect(await getCm(told)).toMatchObject({ kind: "ConfigMap" });
    expect(seen.map((s) => s.httpVersion)).toEqual(["1.1", "1.1", "1.1"]);
    expect(seen[2]?.headers["authorization"]).toBe(`Bearer ${TOKEN}`);
    fallback.rest.close();
    told.rest.close();
  });

  it.each([true, false])(
    "turns an error status into a coded error with the server's message (http2: %s)",
    async (http2) => {
      const port = await h2Server({ allowHTTP1: true });
      const kube = createKubeClient({ kubeconfig: kubeconfig(port), http2 });
      await expect(kube.rest.json({ method: "GET", path: "/nothing" })).rejects.toMatchObject({
        code: ErrorCodes.KUBE_NOT_FOUND,
        message: "GET /nothing: 404 NotFound no /nothing",
      });
      kube.rest.close();
    },
  );

  it.each([true, false])("streams a watch as it arrives (http2: %s)", async (http2) => {
    const port = await h2Server({ allowHTTP1: true });
    const kube = createKubeClient({ kubeconfig: kubeconfig(port), http2 });
    const body = await kube.rest.stream({
      method: "GET",
      path: "/api/v1/namespaces/ns/configmaps",
      query: { watch: true },
    });
    let text = "";
    for await (const chunk of body) text += chunk.toString("utf8");
    body.destroy();
    expect(
      text
        .trim()
        .split("\n")
        .map(
          (l) => (JSON.parse(l) as { object: { metadata: { name: string } } }).object.metadata.name,
        ),
    ).toEqual(["e1", "e2", "e3"]);
    kube.rest.close();
  });

  it.each([true, false])(
    "gives up on a server that does not answer, naming the request (http2: %s)",
    async (http2) => {
      const port = await h2Server({ allowHTTP1: true });
      const kube = createKubeClient({ kubeconfig: kubeconfig(port), http2 });
      await expect(
        kube.rest.json({ method: "GET", path: "/slow", timeoutMs: 200 }),
      ).rejects.toMatchObject({
        code: ErrorCodes.KUBE_REQUEST_FAILED,
        message: "GET /slow: no answer in 200 ms",
      });
      kube.rest.close();
    },
  );

  it.each([true, false])(
    "sends a kubeconfig user's username and password as Basic auth (http2: %s)",
    async (http2) => {
      const port = await h2Server({ allowHTTP1: true });
      const user = "username: alice\n    password: pa:ss";
      const kube = createKubeClient({ kubeconfig: kubeconfig(port, user), http2 });
      await getCm(kube);
      const basic = `Basic ${Buffer.from("alice:pa:ss").toString("base64")}`;
      expect(seen[0]?.headers["authorization"]).toBe(basic);
      kube.rest.close();
    },
  );

  it.each([true, false])(
    "presents a client certificate an authenticator gives as PKCS#12 (http2: %s)",
    async (http2) => {
      const serving = makeServingCert(ca, ["127.0.0.1"]);
      const strict = { ...serving, ca: ca.cert, requestCert: true, rejectUnauthorized: true };
      const port = await listen(createSecureServer({ ...strict, allowHTTP1: true }, handler));
      const kc = loadKubeConfig(kubeconfig(port));
      const { pfx, passphrase } = pkcs12(makeClientCert(ca, { user: "carol", groups: [] }));
      kc.addAuthenticator({
        isAuthProvider: () => true,
        applyAuthentication: (_user, opts) => {
          Object.assign(opts, { pfx, passphrase });
          return Promise.resolve();
        },
      });
      const transport = http2 ? createHttp2Transport() : createHttp1Transport();
      const rest = createRestClient(kc, undefined, transport);
      const path = "/api/v1/namespaces/ns/configmaps/cm";
      expect(await rest.json({ method: "GET", path })).toMatchObject({ kind: "ConfigMap" });
      rest.close();
    },
  );

  it("gives up on a server that accepts the connection but never completes TLS", async () => {
    const silent = createTcpServer(() => undefined);
    const port = await listen(silent);
    const kube = createKubeClient({ kubeconfig: kubeconfig(port) });
    await expect(getCm(kube, 300)).rejects.toMatchObject({
      code: ErrorCodes.KUBE_REQUEST_FAILED,
      message: "GET /api/v1/namespaces/ns/configmaps/cm: no TLS handshake in 300 ms",
    });
    kube.rest.close();
  });

  it("lets a request cancelled while the TLS handshake hangs go at once (an informer stopping)", async () => {
    const silent = createTcpServer(() => undefined);
    const port = await listen(silent);
    const rest = createRestClient(
      loadKubeConfig(kubeconfig(port)),
      undefined,
      createHttp2Transport(),
    );
    const abort = new AbortController();
    // A watch: no request timeout, so only the 30 s connect limit would end the wait.
    const watching = rest.stream({ method: "GET", path: "/forever", signal: abort.signal });
    setTimeout(() => {
      abort.abort();
    }, 200);
    const started = performance.now();
    await expect(watching).rejects.toThrow("the request was cancelled while connecting");
    expect(performance.now() - started).toBeLessThan(2_000);
    rest.close();
  });

  it("ends a watch whose connection stops answering HTTP/2 pings", async () => {
    const port = await h2Server({ allowHTTP1: false });
    // A proxy that can stop passing bytes while keeping both TCP connections open.
    const sockets: Socket[] = [];
    const proxy = createTcpServer((client) => {
      const upstream = connectTcp(port, "127.0.0.1");
      sockets.push(client, upstream);
      client.pipe(upstream).pipe(client);
    });
    const proxyPort = await listen(proxy);
    const transport = createHttp2Transport({ intervalMs: 100, timeoutMs: 300 });
    const rest = createRestClient(loadKubeConfig(kubeconfig(proxyPort)), undefined, transport);
    const body = await rest.stream({ method: "GET", path: "/forever" });
    const reading = (async (): Promise<string> => {
      let text = "";
      for await (const chunk of body) text += chunk.toString("utf8");
      return text;
    })();
    // Healthy pings for a while: the watch stays open.
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const s of sockets) s.pause();
    const started = performance.now();
    await expect(reading).rejects.toThrow("no answer to an HTTP/2 ping in 300 ms");
    expect(performance.now() - started).toBeLessThan(2_000);
    for (const s of sockets) s.destroy();
    rest.close();
  });

  it("opens a new connection after the server closes the old one", async () => {
    const serving = makeServingCert(ca, ["127.0.0.1"]);
    const server = createSecureServer(serving, handler);
    const sessions: ServerHttp2Session[] = [];
    server.on("session", (s) => sessions.push(s));
    const port = await listen(server);
    const kube = createKubeClient({ kubeconfig: kubeconfig(port) });
    await getCm(kube);
    sessions[0]?.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await getCm(kube);
    sessions[1]?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await getCm(kube);
    expect(sessions).toHaveLength(3);
    expect(seen).toHaveLength(3);
    kube.rest.close();
  });

  it("does not hold an idle process open", async () => {
    const port = await h2Server({ allowHTTP1: false });
    const client = fileURLToPath(new URL("../../src/kube/client.ts", import.meta.url));
    const script = [
      `const { createKubeClient } = await import(${JSON.stringify(client)});`,
      `const kube = createKubeClient({ kubeconfig: ${JSON.stringify(kubeconfig(port))} });`,
      `const cm = await kube.rest.json({ method: "GET", path: "/api/v1/namespaces/ns/configmaps/cm" });`,
      "console.log(cm.metadata.name);",
    ].join("\n");
    const started = performance.now();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(out.trim()).toBe("cm");
    expect(code).toBe(0);
    // Node's start and tsx take about a second; an open connection would keep it forever.
    expect(performance.now() - started).toBeLessThan(15_000);
  }, 30_000);
});
