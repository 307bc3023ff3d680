/**
 * The bitnami.com/v1alpha1 opt-in: with it, the controller takes over SealedSecrets of Bitnami's
 * own kind (Bitnami's CRD, from the sealed-secrets module the kubeseal build fetched), as the real
 * kubeseal writes them, and the deprecated v1 form (spec.data) that Bitnami's controller still
 * opens by default; without it, they are left alone.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/crypto/sealing/certificate.js";
import { encodeBase64 } from "../../src/crypto/sealing/base64.js";
import { hybridEncrypt } from "../../src/crypto/sealing/hybrid.js";
import { sealingLabel } from "../../src/crypto/sealing/scope.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { OWNED_LABEL, OWNED_VALUE } from "../../src/secrets/names.js";
import { workdir } from "../cli/harness.js";
import { kubectl } from "../envtest/bootstrap.js";
import { ensureBinaries } from "../envtest/binaries.js";
import { clientAs, envtest, eventually, testNamespace } from "../envtest/context.js";
import { ensureGoTool, GO_TOOL_BUILD_TIMEOUT_MS } from "../tools/go-tools.js";
import {
  decoded,
  fetchCert,
  sealedSecret,
  startController,
  waitReady,
  type Controller,
} from "./harness.js";

const PASSWORD = "pw-bitnami-3d1e-never-logged";
const BITNAMI = { apiVersion: "bitnami.com/v1alpha1", kind: "SealedSecret" } as const;
const SECRET = { apiVersion: "v1", kind: "Secret" } as const;
const admin = clientAs("admin");
const files = workdir("bitnami");
const controllers: Controller[] = [];
let kubeseal: string;

beforeAll(async () => {
  kubeseal = ensureGoTool("kubeseal");
  const modcache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
  const crd = join(
    modcache,
    "github.com/bitnami-labs/sealed-secrets@v0.36.0/helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml",
  );
  const bin = ensureBinaries();
  await kubectl(bin, envtest().kubeconfigs.admin, ["apply", "--server-side", "-f", crd]);
  await kubectl(bin, envtest().kubeconfigs.admin, [
    "wait",
    "--for=condition=Established",
    "crd/sealedsecrets.bitnami.com",
    "--timeout=60s",
  ]);
}, GO_TOOL_BUILD_TIMEOUT_MS);

afterEach(async () => {
  await Promise.all(controllers.splice(0).map((c) => c.stop()));
});

async function start(ns: string, bitnami: boolean): Promise<Controller> {
  const c = await startController(ns, { options: { bitnami } });
  controllers.push(c);
  await waitReady(c);
  return c;
}

async function secretOf(ns: string, name: string): Promise<KubeObject | undefined> {
  return admin.get({ ...SECRET, namespace: ns, name });
}

/** The deprecated v1 form: the whole Secret, as JSON, sealed as one value (strict scope). */
function v1SealedSecret(certPem: string, ns: string, name: string): KubeObject {
  const inner = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "ignored", namespace: "ignored", labels: { tier: "db" } },
    type: "Opaque",
    data: { password: Buffer.from(PASSWORD).toString("base64") },
  };
  const { publicKey } = parseCertificate(certPem, "cert");
  const blob = hybridEncrypt(
    publicKey,
    Buffer.from(JSON.stringify(inner)),
    sealingLabel("strict", ns, name),
  );
  // Bitnami's current CRD requires encryptedData; an old object carries it empty.
  return {
    ...BITNAMI,
    metadata: { name, namespace: ns },
    spec: { data: encodeBase64(blob), encryptedData: {} },
  };
}

describe("bitnami.com/v1alpha1 SealedSecrets", () => {
  it("materialises Bitnami's kind from kubeseal, and the deprecated v1 spec.data", async () => {
    const ns = await testNamespace("bitnami");
    const c = await start(ns, true);
    expect(c.component.readiness()).toMatchObject({ "informer:sealedsecrets.bitnami.com": true });
    const cert = await fetchCert(c);
    const certFile = files.write(`${ns}.pem`, cert);
    const out = execFileSync(kubeseal, ["--cert", certFile, "-o", "json"], {
      input: JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "from-kubeseal", namespace: ns },
        stringData: { password: PASSWORD },
      }),
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: files.dir },
    });
    await admin.create(JSON.parse(out) as KubeObject);
    await admin.create(v1SealedSecret(cert, ns, "legacy"));
    await eventually("both Secrets", async () => {
      const [a, b] = await Promise.all([secretOf(ns, "from-kubeseal"), secretOf(ns, "legacy")]);
      return decoded(a)["password"] === PASSWORD && decoded(b)["password"] === PASSWORD;
    });
    const legacy = await secretOf(ns, "legacy");
    expect(legacy?.metadata.labels).toEqual({ tier: "db", [OWNED_LABEL]: OWNED_VALUE });
    expect(legacy?.metadata.ownerReferences?.[0]).toMatchObject({
      apiVersion: "bitnami.com/v1alpha1",
      kind: "SealedSecret",
      name: "legacy",
      controller: true,
    });
    // The Secret is written before the status: wait for the condition rather than read it once.
    await eventually("legacy's Synced condition", async () => {
      const status = (
        await admin.get<
          KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
        >({ ...BITNAMI, namespace: ns, name: "legacy" })
      )?.status;
      return (status?.conditions ?? []).some((x) => x.type === "Synced" && x.status === "True");
    });
    expect(c.logs.raw()).not.toContain(PASSWORD);
  });

  it("leaves Bitnami's kind alone without the opt-in", async () => {
    const ns = await testNamespace("bitnami");
    // Sealed for the namespace's key (kept in the cluster) and made before the controller starts:
    // a lane for Bitnami's kind would list it while syncing and take it up as its workers start.
    const first = await start(ns, false);
    const cert = await fetchCert(first);
    await controllers.splice(controllers.indexOf(first), 1)[0]?.stop();
    await admin.create(v1SealedSecret(cert, ns, "legacy"));
    const c = await start(ns, false);
    expect(Object.keys(c.component.readiness())).not.toContain(
      "informer:sealedsecrets.bitnami.com",
    );
    // The later event: a SealedSecret of ours, made once the controller was ready, materialised.
    await admin.create(sealedSecret(cert, { namespace: ns, name: "marker" }, { v: "1" }));
    await eventually(
      "the marker's Secret",
      async () => (await secretOf(ns, "marker")) !== undefined,
    );
    expect(await secretOf(ns, "legacy")).toBeUndefined();
  });
});
