/**
 * What the image holds, proven without a container engine: the Dockerfile's last stage is
 * `npm ci --omit=dev` plus dist/, crds/ and webhooks/. This test builds exactly that in a clean
 * folder outside the project (so no dev dependency can be found by walking up), then runs
 * `--version`, `seal` + `unseal` and the standalone `webhook` from it, as the image would.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSealingKey } from "../../src/crypto/sealing/keygen.js";
import { freePort } from "../envtest/processes.js";
import { makeServingCert, makeTestCa } from "../helpers/tls.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const app = mkdtempSync(join(tmpdir(), "gg-production-"));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
// Only the system's basics on PATH: nothing from the project's node_modules/.bin.
const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: app, NODE_ENV: "production" };

function gitopsGuard(args: readonly string[], input?: string): string {
  return execFileSync(process.execPath, [join(app, "dist/cli/bin.js"), ...args], {
    cwd: app,
    env,
    input,
    encoding: "utf8",
    timeout: 30_000,
  });
}

beforeAll(() => {
  for (const f of ["package.json", "package-lock.json"]) cpSync(join(ROOT, f), join(app, f));
  for (const d of ["crds", "webhooks"]) cpSync(join(ROOT, d), join(app, d), { recursive: true });
  // dist/ as `npm run build` writes it (the bundle; tsc only type-checks).
  execFileSync(process.execPath, [join(ROOT, "scripts/bundle.mjs"), join(app, "dist")], {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 180_000,
  });
  // npm keeps the user's own settings (registry, CA, cache): only the install is clean.
  execFileSync("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: app,
    env: { ...process.env, NODE_ENV: "production" },
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 240_000,
  });
}, 480_000);

afterAll(() => {
  rmSync(app, { recursive: true, force: true });
});

describe("a production install (npm ci --omit=dev, dist/, crds/, webhooks/)", () => {
  it("holds no dev-only package", () => {
    // The lockfile marks what only the dev dependencies need ("dev": true); @types/node, say,
    // is also a runtime dependency's dependency, so it may stay.
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== "" && entry.dev === true)
      .map(([path]) => path);
    expect(devOnly).toEqual(
      expect.arrayContaining(["node_modules/vitest", "node_modules/typescript"]),
    );
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
    expect(existsSync(join(app, "node_modules/@kubernetes/client-node"))).toBe(true);
  });

  it("prints its version", () => {
    expect(gitopsGuard(["--version"]).trim()).toBe(pkg.version);
  });

  it("seals a Secret that unseal opens again", async () => {
    const { certificatePem, privateKeyPem } = await generateSealingKey({
      now: Date.now(),
      bits: 2048,
    });
    writeFileSync(join(app, "cert.pem"), certificatePem);
    writeFileSync(join(app, "key.pem"), privateKeyPem);
    const secret = JSON.stringify({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db", namespace: "shop" },
      stringData: { password: "production-install-check" },
    });
    const sealed = gitopsGuard(["seal", "--cert", join(app, "cert.pem"), "-o", "json"], secret);
    const ss = JSON.parse(sealed) as {
      kind: string;
      spec: { encryptedData: Record<string, string> };
    };
    expect(ss.kind).toBe("SealedSecret");
    expect(Object.keys(ss.spec.encryptedData)).toEqual(["password"]);
    expect(sealed).not.toContain("production-install-check");
    const opened = gitopsGuard(
      ["unseal", "--private-key", join(app, "key.pem"), "--show-values", "-o", "json"],
      sealed,
    );
    expect(opened).toContain(Buffer.from("production-install-check").toString("base64"));
  });

  it("serves the standalone webhook and answers an AdmissionReview", async () => {
    const ca = makeTestCa();
    const serving = makeServingCert(ca, ["127.0.0.1"]);
    writeFileSync(join(app, "tls.crt"), serving.cert);
    writeFileSync(join(app, "tls.key"), serving.key);
    cpSync(
      join(ROOT, "test/fixtures/admission/guardpolicy-default.yaml"),
      join(app, "policy.yaml"),
    );
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        join(app, "dist/cli/bin.js"),
        "webhook",
        "--policy",
        join(app, "policy.yaml"),
        "--listen",
        `127.0.0.1:${String(port)}`,
        "--tls-cert",
        join(app, "tls.crt"),
        "--tls-key",
        join(app, "tls.key"),
      ],
      { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] },
    );
    try {
      const review = readFileSync(
        join(ROOT, "test/fixtures/admission/08-update-deployment-kubectl-patch.json"),
        "utf8",
      );
      const answer = await postUntilUp(
        `https://127.0.0.1:${String(port)}/validate`,
        review,
        ca.cert,
      );
      const uid = (JSON.parse(review) as { request: { uid: string } }).request.uid;
      expect(answer).toMatchObject({ kind: "AdmissionReview", response: { uid } });
    } finally {
      child.kill("SIGTERM");
    }
  });
});

async function postUntilUp(url: string, body: string, ca: string): Promise<unknown> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    try {
      return await post(url, body, ca);
    } catch (err: unknown) {
      if (performance.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function post(url: string, body: string, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", ca, headers: { "Content-Type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          try {
            resolve(JSON.parse(text));
          } catch (err: unknown) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
