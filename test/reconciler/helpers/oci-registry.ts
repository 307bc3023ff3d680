// The reference OCI registry (distribution v3, test/tools/go-tools.ts) on loopback for charts
// pulled from oci://: filesystem storage in a temp folder, TLS with a test CA, and either
// htpasswd (basic auth) or token auth (bearer JWTs the test signs). Charts are pushed with the
// real `helm push`; a stored blob can be corrupted in place. Run under the envtest watchdog, so
// it is killed on every path, and stopped when the test ends.
//
// Htpasswd accepts bcrypt only, and neither Node nor openssl makes bcrypt hashes (a Blowfish
// port would be longer than this file). The registry provisions the file itself when it is
// missing, with user "docker" and a random password it logs once (its documented behaviour):
// the helper reads that password from the registry's own JSON log.
import { execFile } from "node:child_process";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { onTestFinished } from "vitest";
import { stringify } from "yaml";
import { startProcess, waitFor, type ManagedProcess } from "../../envtest/processes.js";
import { makeServingCert, makeTestCa, type TestCa } from "../../helpers/tls.js";
import { ensureGoTool } from "../../tools/go-tools.js";
import { writeChartSource } from "./helm-tests.js";
import { ensureHelm } from "./kustomize.js";

const run = promisify(execFile);

export type RegistryAuth = "htpasswd" | "token";

export interface OciRegistry {
  /** oci://127.0.0.1:PORT/charts: the repoURL of its charts. */
  readonly url: string;
  /** 127.0.0.1:PORT */
  readonly host: string;
  readonly ca: TestCa;
  /** Basic auth (htpasswd mode); empty in token mode. */
  readonly username: string;
  readonly password: string;
  /** Packages a chart (name, version, one ConfigMap template) and pushes it; its archive. */
  publish(name: string, version: string, template: string): Promise<string>;
  /** `helm push` of a chart archive (NAME-VERSION.tgz), or of a chart folder packaged first. */
  pushChart(path: string): Promise<string>;
  /** Flips the last byte of name:version's chart layer in storage, keeping its size. */
  tamper(name: string, version: string): void;
  /** A bearer token (token mode) granting actions on the repository charts/NAME. */
  token(name: string, actions: readonly string[]): string;
  stop(): Promise<void>;
}

interface Paths {
  readonly dir: string;
  readonly home: string;
  readonly storage: string;
  readonly log: string;
}

const ISSUER = "gitops-guard-test-issuer";
const SERVICE = "gitops-guard-test-registry";

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

/** Token mode: an Ed25519 key the registry trusts through a JWKS file, and a token minter. */
function tokenSigner(dir: string): (name: string, actions: readonly string[]) => string {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "test-key", use: "sig", alg: "EdDSA" };
  writeFileSync(join(dir, "jwks.json"), JSON.stringify({ keys: [jwk] }));
  return (name, actions) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: "EdDSA", typ: "JWT", kid: "test-key" }));
    const claims = b64url(
      JSON.stringify({
        ...{ iss: ISSUER, sub: "reader", aud: SERVICE, iat: now, nbf: now - 60, exp: now + 3600 },
        jti: randomBytes(8).toString("hex"),
        access: [{ type: "repository", name: `charts/${name}`, actions }],
      }),
    );
    const signature = sign(null, Buffer.from(`${header}.${claims}`), privateKey);
    return `${header}.${claims}.${b64url(signature)}`;
  };
}

function authConfig(paths: Paths, mode: RegistryAuth): Record<string, unknown> {
  if (mode === "htpasswd") {
    return { htpasswd: { realm: "charts", path: join(paths.dir, "htpasswd") } };
  }
  // The realm is never asked: helm presents the token it is given (registrytoken).
  return {
    token: {
      realm: "https://127.0.0.1:1/token",
      service: SERVICE,
      issuer: ISSUER,
      jwks: join(paths.dir, "jwks.json"),
    },
  };
}

function writeConfig(paths: Paths, ca: TestCa, mode: RegistryAuth): string {
  const cert = makeServingCert(ca, ["127.0.0.1"]);
  writeFileSync(join(paths.dir, "tls.crt"), cert.cert);
  writeFileSync(join(paths.dir, "tls.key"), cert.key, { mode: 0o600 });
  const config = {
    version: "0.1",
    log: { level: "info", formatter: "json", accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: paths.storage } },
    // Port 0: the registry logs the port it got ("listening on ...").
    http: {
      addr: "127.0.0.1:0",
      secret: randomBytes(16).toString("hex"),
      tls: { certificate: join(paths.dir, "tls.crt"), key: join(paths.dir, "tls.key") },
    },
    auth: authConfig(paths, mode),
  };
  const file = join(paths.dir, "config.yml");
  writeFileSync(file, stringify(config));
  return file;
}

/** The registry's JSON log lines so far (the last one may be half written). */
function logLines(logFile: string): Record<string, unknown>[] {
  return readFileSync(logFile, "utf8")
    .split("\n")
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** The first capture of pattern in field of a log line. */
function logged(logFile: string, field: string, pattern: RegExp): string | undefined {
  for (const line of logLines(logFile)) {
    const value = line[field];
    const match = typeof value === "string" ? pattern.exec(value) : null;
    if (match !== null) return match[1] ?? match[0];
  }
  return undefined;
}

/** Whether GET /v2/ answers (401 without credentials: it is up and asks for them). */
function answers(host: string, ca: TestCa): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`https://${host}/v2/`, { ca: ca.cert, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 401 || res.statusCode === 200);
    });
    req.on("error", () => {
      resolve(false);
    });
    req.end();
  });
}

async function ready(paths: Paths, ca: TestCa, registry: ManagedProcess): Promise<string> {
  let host: string | undefined;
  await waitFor(
    "the OCI registry to listen",
    () => {
      host = logged(paths.log, "msg", /^listening on (127\.0\.0\.1:\d+)/);
      return Promise.resolve(host !== undefined);
    },
    { timeoutMs: 20_000, process: registry, logFile: paths.log },
  );
  const listening = host ?? "";
  await waitFor("the OCI registry to answer /v2/", () => answers(listening, ca), {
    timeoutMs: 20_000,
    process: registry,
    logFile: paths.log,
  });
  return listening;
}

function helmEnv(paths: Paths): NodeJS.ProcessEnv {
  return { PATH: process.env["PATH"] ?? "", HOME: paths.home, HELM_NO_PLUGINS: "1" };
}

/** Writes name-version's chart folder and packages it into dir/packages. */
async function packageChart(paths: Paths, chart: string): Promise<string> {
  const out = join(paths.dir, "packages");
  const { stdout } = await run(ensureHelm(), ["package", chart, "--destination", out], {
    env: helmEnv(paths),
  });
  const saved = /saved it to: (.+\.tgz)/.exec(stdout)?.[1];
  if (saved === undefined) throw new Error(`helm package printed no archive: ${stdout}`);
  return saved.trim();
}

/** The chart name of an archive helm package made (NAME-X.Y.Z....tgz). */
function chartName(archive: string): string {
  const name = /([^/]+?)-\d+\.\d+\.\d+[^/]*\.tgz$/.exec(archive)?.[1];
  if (name === undefined) throw new Error(`${archive} is not NAME-VERSION.tgz`);
  return name;
}

function tamperBlob(storage: string, name: string, version: string): void {
  const v2 = join(storage, "docker", "registry", "v2");
  const blob = (digest: string): string => {
    const hex = digest.replace(/^sha256:/, "");
    return join(v2, "blobs", "sha256", hex.slice(0, 2), hex, "data");
  };
  const tag = version.replaceAll("+", "_");
  const link = join(v2, "repositories", "charts", name, "_manifests", "tags", tag, "current");
  const manifest = JSON.parse(
    readFileSync(blob(readFileSync(join(link, "link"), "utf8").trim()), "utf8"),
  ) as { layers: { mediaType: string; digest: string }[] };
  const layer = manifest.layers.find((l) => l.mediaType.includes("helm.chart.content"));
  if (layer === undefined) throw new Error(`${name}:${version} has no chart layer`);
  const bytes = readFileSync(blob(layer.digest));
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
  writeFileSync(blob(layer.digest), bytes);
}

/** What pushing needs of a running registry. */
interface Pusher {
  readonly paths: Paths;
  readonly host: string;
  readonly caFile: string;
  /** helm's registry config for pushes: a login (htpasswd) or a fresh push token (token). */
  readonly config: string;
  readonly token?: (name: string, actions: readonly string[]) => string;
}

async function helmLogin(pusher: Pusher, username: string, password: string): Promise<void> {
  const login = run(
    ensureHelm(),
    ["registry", "login", pusher.host, "--username", username, "--password-stdin"].concat([
      "--ca-file",
      pusher.caFile,
      "--registry-config",
      pusher.config,
    ]),
    { env: helmEnv(pusher.paths) },
  );
  login.child.stdin?.end(password);
  await login;
}

async function push(pusher: Pusher, path: string): Promise<string> {
  const archive = statSync(path).isDirectory() ? await packageChart(pusher.paths, path) : path;
  if (pusher.token !== undefined) {
    const auth = { registrytoken: pusher.token(chartName(archive), ["pull", "push"]) };
    const config = JSON.stringify({ auths: { [pusher.host]: auth } });
    writeFileSync(pusher.config, config, { mode: 0o600 });
  }
  const target = `oci://${pusher.host}/charts`;
  await run(
    ensureHelm(),
    ["push", archive, target, "--ca-file", pusher.caFile, "--registry-config", pusher.config],
    { env: helmEnv(pusher.paths) },
  );
  return archive;
}

function noToken(): string {
  throw new Error("token() needs a registry started in token mode");
}

/** Starts the registry (stopped when the test ends) and waits until it answers /v2/. */
export async function startOciRegistry(mode: RegistryAuth = "htpasswd"): Promise<OciRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "gg-oci-registry-"));
  const paths: Paths = {
    dir,
    home: join(dir, "home"),
    storage: join(dir, "storage"),
    log: join(dir, "registry.log"),
  };
  mkdirSync(paths.home);
  writeFileSync(paths.log, "");
  const ca = makeTestCa("gitops-guard OCI registry test CA");
  const token = mode === "token" ? tokenSigner(dir) : undefined;
  const registry = startProcess({
    name: "distribution",
    binary: ensureGoTool("distribution"),
    args: ["serve", writeConfig(paths, ca, mode)],
    logFile: paths.log,
  });
  const stop = async (): Promise<void> => {
    await registry.stop(5000);
    rmSync(dir, { recursive: true, force: true });
  };
  onTestFinished(stop);
  const host = await ready(paths, ca, registry).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  const caFile = join(dir, "ca.crt");
  writeFileSync(caFile, ca.cert);
  const pusher: Pusher = {
    paths,
    host,
    caFile,
    config: join(dir, "push-registry.json"),
    ...(token === undefined ? {} : { token }),
  };
  const username = mode === "htpasswd" ? "docker" : "";
  const password = mode === "htpasswd" ? (logged(paths.log, "password", /^(.+)$/) ?? "") : "";
  if (mode === "htpasswd") await helmLogin(pusher, username, password);
  return {
    url: `oci://${host}/charts`,
    host,
    ca,
    username,
    password,
    pushChart: (path) => push(pusher, path),
    async publish(name, version, template) {
      const src = writeChartSource(dir, { name, version }, template);
      return push(pusher, src);
    },
    tamper(name, version) {
      tamperBlob(paths.storage, name, version);
    },
    token: token ?? noToken,
    stop,
  };
}
