import { parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { generateSealingKey, type GeneratedKey } from "../../src/crypto/sealing/keygen.js";
import { KEY_SECRET_LABEL, keyFromSecret, keySecret } from "../../src/crypto/sealing/key-secret.js";
import { gitopsGuard, workdir } from "./harness.js";

const DAY = 86_400_000;
const files = workdir("keys");
let older: GeneratedKey;
let newer: GeneratedKey;

beforeAll(async () => {
  [older, newer] = await Promise.all([
    generateSealingKey({ now: Date.UTC(2026, 0, 1), bits: 2048 }),
    generateSealingKey({ now: Date.UTC(2026, 1, 1), bits: 2048, validForMs: 30 * DAY }),
  ]);
});

describe("gitops-guard keys", () => {
  it("lists the keys of a Bitnami backup, newest marked as the one that seals", async () => {
    const bitnami = (g: GeneratedKey, name: string): unknown => ({
      ...keySecret(g, { namespace: "kube-system", name }),
      metadata: {
        name,
        namespace: "kube-system",
        labels: { "sealedsecrets.bitnami.com/sealed-secrets-key": "active" },
      },
    });
    const backup = files.write(
      "backup.yaml",
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [bitnami(older, "k1"), bitnami(newer, "k2")],
      }),
    );
    const result = await gitopsGuard(["keys", "list", backup]);
    expect(result.code).toBe(0);
    const lines = result.out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^FINGERPRINT\s+SIZE\s+NOT-BEFORE\s+NOT-AFTER\s+SOURCE$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${escape(newer.key.fingerprint)}\\s+RSA-2048\\s+2026-02-01\\s+2026-03-03\\s+\\S+backup.yaml: Secret kube-system/k2\\s+newest \\(seals\\)$`,
      ),
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `^${escape(older.key.fingerprint)}\\s+RSA-2048\\s+2026-01-01\\s+2035-12-30\\s+\\S+backup.yaml: Secret kube-system/k1$`,
      ),
    );
  });

  it("prints the same fingerprint for a certificate and its private key", async () => {
    const cert = files.write("cert.pem", newer.certificatePem);
    const key = files.write("key.pem", older.privateKeyPem + newer.certificatePem);
    const result = await gitopsGuard(["keys", "fingerprint", cert, key]);
    expect(result.out).toBe(
      `${newer.key.fingerprint}  ${cert} (certificate)\n` +
        `${older.key.fingerprint}  ${key} (private key)\n` +
        `${newer.key.fingerprint}  ${key} (certificate)\n`,
    );
  });

  it("imports PEM keys as gitops-guard key Secrets, certifying a key that came without one", async () => {
    const pem = files.write("bare.pem", older.privateKeyPem);
    const result = await gitopsGuard(["keys", "import", pem, "--namespace", "gg"]);
    expect(result.code).toBe(0);
    const [list] = parseAllDocuments(result.out).map(
      (d) =>
        d.toJS() as {
          kind: string;
          items: {
            metadata: { name: string; namespace: string; labels: Record<string, string> };
          }[];
        },
    );
    expect(list?.kind).toBe("List");
    const [secret] = list!.items;
    expect(secret?.metadata).toMatchObject({
      namespace: "gg",
      labels: { [KEY_SECRET_LABEL]: "active" },
    });
    expect(secret?.metadata.name).toMatch(/^sealing-key-[0-9a-f]{10}$/);
    expect(keyFromSecret(secret, "import").fingerprint).toBe(older.key.fingerprint);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
