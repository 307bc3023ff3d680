// A Helm chart repository as a test serves it: charts made with the real `helm package` and
// indexed with `helm repo index`, served over HTTPS on loopback with basic auth, as a private
// repository would be. Charts can be published while it runs; an archive can be swapped.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { makeServingCert, makeTestCa, type TestCa } from "../../helpers/tls.js";
import { writeChartSource } from "./helm-tests.js";
import { ensureHelm } from "./kustomize.js";

export interface ChartRepo {
  readonly url: string;
  readonly ca: TestCa;
  readonly username: string;
  readonly password: string;
  /** Packages a chart (name, version, one ConfigMap template) and re-indexes. */
  publish(name: string, version: string, template: string): void;
  /** Replaces the bytes of a published archive without re-indexing (a tampered mirror). */
  tamper(name: string, version: string): void;
  /** Requests seen, by path. */
  readonly seen: string[];
}

function helm(args: readonly string[], home: string): void {
  execFileSync(ensureHelm(), args, {
    env: { PATH: process.env["PATH"] ?? "", HOME: home },
    stdio: "pipe",
  });
}

export async function chartRepo(): Promise<ChartRepo> {
  const dir = mkdtempSync(join(tmpdir(), "gg-chart-repo-"));
  const served = join(dir, "served");
  mkdirSync(served);
  const ca = makeTestCa();
  const username = "reader";
  const password = "repo-password-1";
  const seen: string[] = [];
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  const server: Server = createServer(makeServingCert(ca, ["127.0.0.1"]), (req, res) => {
    seen.push(req.url ?? "");
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="charts"' }).end();
      return;
    }
    const name = (req.url ?? "/").replace(/^\/charts\//, "").split("?")[0] ?? "";
    try {
      const body = readFileSync(join(served, name.replaceAll("..", "")));
      res.writeHead(200).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${String((server.address() as AddressInfo).port)}/charts`;
  onTestFinished(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url,
    ca,
    username,
    password,
    seen,
    publish(name, version, template) {
      const src = writeChartSource(dir, { name, version }, template);
      helm(["package", src, "--destination", served], dir);
      helm(["repo", "index", served, "--url", url], dir);
    },
    tamper(name, version) {
      const file = join(served, `${name}-${version}.tgz`);
      const bytes = readFileSync(file);
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
      writeFileSync(file, bytes);
    },
  };
}
