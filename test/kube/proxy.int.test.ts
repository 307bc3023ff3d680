/**
 * kubeconfig's proxy-url, through a real HTTP proxy on loopback (test/helpers/connect-proxy.ts):
 * both transports reach the real API server through a CONNECT tunnel and close it with the
 * client; the proxy's credentials go with the CONNECT; a refusal, a silent proxy and an
 * unsupported scheme are errors; an http:// server is asked through the proxy in absolute form.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { parse, stringify } from "yaml";
import { ErrorCodes } from "../../src/errors.js";
import { createKubeClient } from "../../src/kube/client.js";
import { envtest, eventually } from "../envtest/context.js";
import {
  startConnectProxy,
  type ProxyOptions,
  type RunningProxy,
} from "../helpers/connect-proxy.js";

let dir: string;
let files = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gitops-guard-proxy-"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Kubeconfig {
  clusters: { cluster: Record<string, unknown> }[];
}

/** The admin kubeconfig with proxy-url (and optionally another server) on its cluster. */
function withProxy(proxyUrl: string, server?: string): string {
  const config = parse(readFileSync(envtest().kubeconfigs.admin, "utf8")) as Kubeconfig;
  for (const { cluster } of config.clusters) {
    cluster["proxy-url"] = proxyUrl;
    if (server !== undefined) {
      cluster["server"] = server;
      cluster["insecure-skip-tls-verify"] = true;
      delete cluster["certificate-authority-data"];
    }
  }
  const file = join(dir, `kubeconfig-${String(++files)}`);
  writeFileSync(file, stringify(config));
  return file;
}

async function proxy(options: ProxyOptions = {}): Promise<RunningProxy> {
  const running = await startConnectProxy(options);
  onTestFinished(() => running.close());
  return running;
}

const NAMESPACES = { method: "GET", path: "/api/v1/namespaces" } as const;

describe("kube client behind an http:// proxy (kubeconfig proxy-url)", () => {
  it.each([true, false])(
    "lists namespaces through a CONNECT tunnel, and closes it with the client (http2: %s)",
    async (http2) => {
      const via = await proxy();
      const kube = createKubeClient({ kubeconfig: withProxy(via.url), http2 });
      const list = await kube.rest.json<{ items: { metadata: { name: string } }[] }>(NAMESPACES);
      expect(list.items.map((n) => n.metadata.name)).toContain("default");
      const apiServer = new URL(envtest().apiServerUrl).host;
      expect(via.requests).toEqual([
        { method: "CONNECT", target: apiServer, proxyAuthorization: undefined },
      ]);
      kube.rest.close();
      await eventually("the tunnel to close", () => via.openClients() === 0);
    },
  );

  it("sends the proxy's credentials from proxy-url with the CONNECT", async () => {
    const via = await proxy();
    const url = via.url.replace("http://", "http://gg:p%40ss@");
    const kube = createKubeClient({ kubeconfig: withProxy(url) });
    await kube.rest.json(NAMESPACES);
    const basic = `Basic ${Buffer.from("gg:p@ss").toString("base64")}`;
    expect(via.requests.map((r) => r.proxyAuthorization)).toEqual([basic]);
    kube.rest.close();
  });

  it.each([true, false])(
    "fails with the proxy's refusal, and in time with a proxy that never answers (http2: %s)",
    async (http2) => {
      const refusing = await proxy({ refuse: 407 });
      const kube = createKubeClient({ kubeconfig: withProxy(refusing.url), http2 });
      await expect(kube.rest.json(NAMESPACES)).rejects.toMatchObject({
        code: ErrorCodes.KUBE_REQUEST_FAILED,
        message: expect.stringMatching(/refused CONNECT 127\.0\.0\.1:\d+: 407/) as unknown,
      });
      kube.rest.close();
      const sockets: Socket[] = [];
      const silent = createTcpServer((s) => sockets.push(s));
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      onTestFinished(async () => {
        for (const s of sockets) s.destroy();
        await new Promise((resolve) => silent.close(resolve));
      });
      const { port } = silent.address() as AddressInfo;
      const stuck = createKubeClient({
        kubeconfig: withProxy(`http://127.0.0.1:${String(port)}`),
        http2,
      });
      await expect(stuck.rest.json({ ...NAMESPACES, timeoutMs: 300 })).rejects.toThrow(
        `proxy 127.0.0.1:${String(port)} opened no tunnel in 300 ms`,
      );
      stuck.rest.close();
    },
  );

  it("asks an http:// server through the proxy in absolute form", async () => {
    const via = await proxy();
    const plain: Server = createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    onTestFinished(async () => {
      plain.closeAllConnections();
      await new Promise((resolve) => plain.close(resolve));
    });
    const server = `http://127.0.0.1:${String((plain.address() as AddressInfo).port)}`;
    const kube = createKubeClient({ kubeconfig: withProxy(via.url, server) });
    expect(await kube.rest.json(NAMESPACES)).toEqual({ path: "/api/v1/namespaces" });
    expect(via.requests).toEqual([
      { method: "GET", target: `${server}/api/v1/namespaces`, proxyAuthorization: undefined },
    ]);
    kube.rest.close();
  });

  it("refuses a proxy-url it cannot honour rather than going around it", () => {
    let error: unknown;
    try {
      createKubeClient({ kubeconfig: withProxy("socks5://127.0.0.1:1080") });
    } catch (err: unknown) {
      error = err;
    }
    expect(error).toMatchObject({
      code: ErrorCodes.KUBECONFIG_INVALID,
      message: "proxy-url socks5:// is not supported: only http:// proxies are",
    });
  });
});
