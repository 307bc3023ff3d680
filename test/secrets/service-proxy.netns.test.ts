/**
 * The online paths of `seal` and of the real kubeseal, through the API server's service proxy
 * to the real secrets controller: --fetch-cert, --validate and --re-encrypt. Runs inside a
 * network namespace of its own (see test/envtest/netns.ts), started by
 * service-proxy.int.test.ts, because the service proxy refuses loopback endpoints.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/crypto/sealing/certificate.js";
import { KEY_SECRET_LABEL } from "../../src/crypto/sealing/key-secret.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { gitopsGuard, workdir } from "../cli/harness.js";
import { clientAs, envtest, eventually } from "../envtest/context.js";
import { ISOLATED_ADDRESS } from "../envtest/netns.js";
import { ensureGoTool, GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";
import { decoded, startController, waitReady, type Controller } from "./harness.js";

const PASSWORD = "pw-proxy-51d3-never-logged";
const SERVICE = "sealed-secrets-ctl";
const admin = clientAs("admin");
const files = workdir("proxy");
let kubeseal: string;

beforeAll(() => {
  kubeseal = ensureGoTool("kubeseal");
}, GO_TOOL_BUILD_TIMEOUT_MS);

/**
 * What a Deployment would give the controller, made by hand: a Pod whose status carries the
 * controller's address, a Service without selector, and Endpoints naming the Pod (the service
 * proxy only forwards to addresses whose targetRef is a Pod with that IP).
 */
async function exposeController(namespace: string, c: Controller): Promise<void> {
  const port = Number(new URL(c.url).port);
  const pod = { apiVersion: "v1", kind: "Pod", namespace, name: "controller-0" } as const;
  await admin.create({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: pod.name, namespace },
    spec: {
      automountServiceAccountToken: false,
      containers: [{ name: "controller", image: "gitops-guard:test" }],
    },
  });
  await admin.patchStatus(pod, {
    phase: "Running",
    podIP: ISOLATED_ADDRESS,
    podIPs: [{ ip: ISOLATED_ADDRESS }],
  });
  await admin.create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: SERVICE, namespace },
    spec: { ports: [{ name: "http", port: 8080, targetPort: port }] },
  });
  await admin.create({
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: SERVICE, namespace },
    subsets: [
      {
        addresses: [
          { ip: ISOLATED_ADDRESS, targetRef: { kind: "Pod", namespace, name: pod.name } },
        ],
        ports: [{ name: "http", port }],
      },
    ],
  });
  // The API server resolves endpoints from its watch cache: wait until the proxy answers.
  const healthz = `/api/v1/namespaces/${namespace}/services/http:${SERVICE}:http/proxy/healthz`;
  await eventually("the service proxy to reach the controller", async () => {
    try {
      return (await admin.rest.text({ method: "GET", path: healthz })).startsWith("ok");
    } catch {
      return false;
    }
  });
}

/**
 * Runs kubeseal without blocking: the controller it reaches through the API server serves
 * from this very process.
 */
async function runKubeseal(
  args: readonly string[],
  input = "",
): Promise<{ code: number; out: string }> {
  const child = execFile(kubeseal, [...args, "--kubeconfig", envtest().kubeconfigs.admin], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: files.dir },
    timeout: 30_000,
  });
  child.stdin?.end(input);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: string) => (out += d));
  child.stderr?.on("data", (d: string) => (err += d));
  const [code] = (await once(child, "close")) as [number | null];
  return code === 0 ? { code, out } : { code: code ?? -1, out: err };
}

function online(namespace: string, args: readonly string[], stdin = "") {
  return gitopsGuard(
    [
      "seal",
      ...args,
      "--controller-name",
      SERVICE,
      "--controller-namespace",
      namespace,
      "--kubeconfig",
      envtest().kubeconfigs.admin,
    ],
    { stdin },
  );
}

const secret = (namespace: string, name: string): string =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace },
    stringData: { password: PASSWORD },
  });

async function keySecrets(namespace: string): Promise<KubeObject[]> {
  const { items } = await admin.list<KubeObject>(
    { apiVersion: "v1", kind: "Secret" },
    { namespace, labelSelector: `${KEY_SECRET_LABEL}=active` },
  );
  return items;
}

function tlsOf(secret: KubeObject | undefined): { cert: string; key: string } {
  const data = (secret?.["data"] ?? {}) as Record<string, string>;
  const text = (k: string): string => Buffer.from(data[k] ?? "", "base64").toString("utf8");
  return { cert: text("tls.crt"), key: text("tls.key") };
}

const fingerprintOf = (pem: string): string => parseCertificate(pem, "cert").fingerprint;

describe("through the API server's service proxy", () => {
  let ns: string;
  let c: Controller;

  beforeAll(async () => {
    // One namespace for the whole file (testNamespace() is per test): the controller, its keys
    // and the Service live there across the tests.
    ns = `proxy-${randomBytes(4).toString("hex")}`;
    await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    // /v1/verify is rate-limited per client (2/s, as Bitnami's); these tests validate in bursts.
    c = await startController(ns, {
      listen: `${ISOLATED_ADDRESS}:0`,
      options: { verifyRate: { perSecond: 100, burst: 100 } },
    });
    await waitReady(c);
    await exposeController(ns, c);
    return () => c.stop();
  });

  it("serves the same certificate to kubeseal --fetch-cert and to seal --fetch-cert", async () => {
    const theirs = await runKubeseal([
      "--fetch-cert",
      "--controller-name",
      SERVICE,
      "--controller-namespace",
      ns,
    ]);
    expect(theirs.code, theirs.out).toBe(0);
    const ours = await online(ns, ["--fetch-cert"]);
    expect(ours.code, ours.err).toBe(0);
    expect(ours.out).toBe(theirs.out);
    const [held] = await keySecrets(ns);
    expect(fingerprintOf(ours.out)).toBe(fingerprintOf(tlsOf(held).cert));
  });

  it("seals online, and what it seals the controller materialises", async () => {
    const ours = await online(ns, ["-o", "json"], secret(ns, "online"));
    expect(ours.code, ours.err).toBe(0);
    const sealed = JSON.parse(ours.out) as KubeObject;
    await admin.create(sealed);
    await eventually("the Secret", async () => {
      const got = await admin.get({
        apiVersion: "v1",
        kind: "Secret",
        namespace: ns,
        name: "online",
      });
      return decoded(got)["password"] === PASSWORD;
    });
  });

  it("validates what opens and refuses what does not, for both CLIs", async () => {
    const good = await runKubeseal(
      ["--controller-name", SERVICE, "--controller-namespace", ns, "-o", "json"],
      secret(ns, "db"),
    );
    expect(good.code, good.out).toBe(0);
    const moved = good.out.replace(`"namespace": "${ns}"`, '"namespace": "elsewhere"');
    expect(moved).not.toBe(good.out);

    expect((await online(ns, ["--validate"], good.out)).code).toBe(0);
    const refused = await online(ns, ["--validate"], moved);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain("the controller cannot open it");

    const validateArgs = ["--validate", "--controller-name", SERVICE, "--controller-namespace", ns];
    // kubeseal reads Bitnami's kind only: --apiversion is the documented way to hand it ours.
    const bitnami = ["--apiversion", "bitnami.com/v1alpha1", "-o", "json"];
    const ourSeal = await online(ns, bitnami, secret(ns, "db"));
    const theirs = await runKubeseal(validateArgs, ourSeal.out);
    expect(theirs.code, theirs.out).toBe(0);
    expect((await runKubeseal(validateArgs, moved)).code).not.toBe(0);
  });

  it("re-encrypts with the newest key through the controller, for both CLIs", async () => {
    const before = await online(
      ns,
      ["--apiversion", "bitnami.com/v1alpha1", "-o", "json"],
      secret(ns, "rotated"),
    );
    expect(before.code, before.err).toBe(0);
    const newest = await c.component.rotateKey();
    const newCert = await online(ns, ["--fetch-cert"]);
    expect(fingerprintOf(newCert.out)).toBe(newest);
    const newestKey = (await keySecrets(ns))
      .map(tlsOf)
      .find((k) => fingerprintOf(k.cert) === newest);
    if (newestKey === undefined) throw new Error("the rotated key's Secret is missing");
    const keyFile = files.write("newest.key", newestKey.key);

    const ours = await online(ns, ["--re-encrypt", "-o", "json"], before.out);
    expect(ours.code, ours.err).toBe(0);
    const theirs = await runKubeseal(
      ["--re-encrypt", "--controller-name", SERVICE, "--controller-namespace", ns, "-o", "json"],
      before.out,
    );
    expect(theirs.code, theirs.out).toBe(0);
    for (const out of [ours.out, theirs.out]) {
      expect(out).not.toBe(before.out);
      expect(out).not.toContain(PASSWORD);
      // Sealed for the newest key: its private key alone opens it, for the same object.
      const opened = await runKubeseal(
        ["--recovery-unseal", "--recovery-private-key", keyFile],
        out,
      );
      expect(opened.code, opened.out).toBe(0);
      const doc = JSON.parse(opened.out) as KubeObject & { data: Record<string, string> };
      expect(doc.metadata).toMatchObject({ name: "rotated", namespace: ns });
      expect(decoded(doc)["password"]).toBe(PASSWORD);
    }
  });
});
