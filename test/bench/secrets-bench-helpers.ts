// Shared pieces of the secrets benchmarks (secrets.bench.ts, secrets-vs-bitnami.bench.ts): the
// sealed documents, 16 concurrent creates, an Informer that counts the Secrets a controller
// wrote, and the raw RSA-4096 OAEP decrypt rate the controller's unseal rate is compared with.
import { constants, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from "node:crypto";
import { keysFromDocuments } from "../../src/crypto/sealing/key-secret.js";
import { Keyring, type SealingKey } from "../../src/crypto/sealing/keyring.js";
import { readSecret, sealSecret } from "../../src/crypto/sealing/seal.js";
import { readSealedSecret } from "../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../src/crypto/sealing/unseal.js";
import type { KubeClient } from "../../src/kube/client.js";
import { Informer } from "../../src/kube/informer.js";
import type { KubeObject } from "../../src/kube/objects.js";
import { realClock } from "../../src/runtime/clock.js";

/** RSA-4096 OAEP-SHA256 decrypts per second on one core, as OpenSSL does it in this process. */
export function rawDecryptRate(publicKeyPem: string, privateKey: KeyObject): number {
  const blocks = Array.from({ length: 100 }, () =>
    publicEncrypt(
      { key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      randomBytes(32),
    ),
  );
  const start = performance.now();
  for (const block of blocks) {
    privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      block,
    );
  }
  return blocks.length / ((performance.now() - start) / 1000);
}

/** n SealedSecrets s0..s<n-1> in namespace, 2 values each (user, password), as plain JSON. */
export function sealedBenchDocs(opts: {
  n: number;
  namespace: string;
  publicKey: KeyObject;
  apiVersion?: string;
}): KubeObject[] {
  return Array.from({ length: opts.n }, (_, i) => {
    const secret = readSecret(
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `s${String(i)}`, namespace: opts.namespace },
        stringData: { user: `u${String(i)}`, password: randomBytes(24).toString("hex") },
      },
      "bench",
    );
    const sealed = sealSecret(secret, {
      publicKey: opts.publicKey,
      ...(opts.apiVersion === undefined ? {} : { apiVersion: opts.apiVersion }),
    });
    return JSON.parse(JSON.stringify(sealed)) as KubeObject;
  });
}

/** Creates every document, 16 requests in flight. */
export async function createAll(docs: readonly KubeObject[], client: KubeClient): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < docs.length) {
      const doc = docs[next++];
      if (doc !== undefined) await client.create(doc);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

export interface OwnedSecretCounter {
  /** Resolves once `expected` owned Secrets exist; rejects, with the count, after timeoutMs. */
  allThere(timeoutMs: number): Promise<void>;
  count(): number;
  stop(): Promise<void>;
}

/**
 * Watches the Secrets of one namespace and counts those with an ownerReference (the ones a
 * controller wrote for a SealedSecret, not its key Secrets). Resolves once the watch synced.
 */
export async function countOwnedSecrets(
  client: KubeClient,
  namespace: string,
  expected: number,
): Promise<OwnedSecretCounter> {
  const secrets = new Informer({
    client,
    type: { apiVersion: "v1", kind: "Secret" },
    namespace,
    clock: realClock(),
  });
  const owned = new Set<string>();
  let reached: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const see = (s: KubeObject): void => {
    if ((s.metadata.ownerReferences ?? []).length === 0) return;
    owned.add(s.metadata.name ?? "");
    if (owned.size >= expected) reached();
  };
  secrets.on("add", see);
  secrets.on("update", see);
  secrets.start();
  await secrets.waitForSync();
  return {
    count: () => owned.size,
    stop: () => secrets.stop(),
    async allThere(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(
            new Error(
              `only ${String(owned.size)} of ${String(expected)} Secrets in ${namespace} after ${String(timeoutMs)} ms`,
            ),
          );
        }, timeoutMs);
      });
      try {
        await Promise.race([done, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The active gitops-guard sealing key in namespace (read back from its key Secret). */
export async function activeGuardKey(admin: KubeClient, namespace: string): Promise<SealingKey> {
  const { items } = await admin.list<KubeObject>(
    { apiVersion: "v1", kind: "Secret" },
    { namespace, labelSelector: "gitops-guard.io/sealing-key=active" },
  );
  const key = new Keyring(keysFromDocuments(items, "cluster")).latest();
  if (key === undefined) throw new Error(`no active sealing key in ${namespace}`);
  return key;
}

/** Values per second the controller's unseal path opens on one core, and raw RSA on the same key. */
export function unsealRates(
  docs: readonly KubeObject[],
  key: SealingKey,
): { unseal: number; raw: number } {
  const raw = rawDecryptRate(
    key.publicKey.export({ type: "spki", format: "pem" }).toString(),
    key.privateKey,
  );
  const parsed = docs.map((d) => readSealedSecret(d, "bench"));
  const ring = new Keyring([key]);
  const start = performance.now();
  for (const ss of parsed) unsealSealedSecret(ss, { keyring: ring });
  const unseal = (parsed.length * 2) / ((performance.now() - start) / 1000);
  return { unseal, raw };
}
