// Secrets from Git: the SOPS file the first sync decrypted, a tampered copy refused, and a
// Secret sealed with the CLI, committed, synced and materialised by the secrets controller.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { errorMessage } from "../../src/errors.js";
import type { KubeClient } from "../../src/kube/client.js";
import { cli } from "./cli.js";
import { describeSecret, readySync, requestShopSync, secret, secretData } from "./cluster.js";
import { until, type Narrator } from "./narrate.js";
import { EXAMPLES, type ExampleRepo } from "./repo.js";

export interface SecretsContext {
  readonly admin: KubeClient;
  readonly opsUrl: string;
  readonly repo: ExampleRepo;
  readonly out: Narrator;
}

const SOPS_FILE = join(EXAMPLES, "shop/payments-api.sops.yaml");
const AGE_KEY = join(EXAMPLES, "keys/demo.agekey");

export function demoAgeKey(): string {
  return readFileSync(AGE_KEY, "utf8");
}

export async function sopsDecrypted(c: SecretsContext): Promise<void> {
  c.out.step("The SOPS file from Git was decrypted by the reconciler (age key, MAC verified)");
  const data = await until("the payments-api Secret", () =>
    secretData(c.admin, "shop", "payments-api"),
  );
  c.out.say(`Secret shop/payments-api holds ${describeSecret(data)} (values never printed)`);
  c.out.say(
    `$ gitops-guard sops check examples/shop/payments-api.sops.yaml --age-key-file examples/keys/demo.agekey\n${await cli(["sops", "check", SOPS_FILE, "--age-key-file", AGE_KEY])}`,
  );
  // One changed ciphertext byte: the MAC no longer matches, and the file is refused.
  const dir = mkdtempSync(join(tmpdir(), "gg-demo-sops-"));
  try {
    const tampered = join(dir, "payments-api.sops.yaml");
    const text = readFileSync(SOPS_FILE, "utf8");
    const at = text.indexOf("ENC[AES256_GCM,data:") + "ENC[AES256_GCM,data:".length;
    const flipped = text[at] === "A" ? "B" : "A";
    writeFileSync(tampered, `${text.slice(0, at)}${flipped}${text.slice(at + 1)}`);
    const refused = await cli(["sops", "decrypt", tampered, "--age-key-file", AGE_KEY]).then(
      () => {
        throw new Error("demo: a tampered SOPS file was decrypted");
      },
      (err: unknown) => errorMessage(err),
    );
    c.out.say(
      `a copy with one ciphertext byte changed is refused:\n${refused.replace(/^.*?: /, "")}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  c.out.result("SOPS", "decrypted from Git; a tampered copy refused");
}

export async function sealCommitMaterialise(c: SecretsContext): Promise<void> {
  c.out.step(
    "A developer seals a Secret with the CLI, commits it, and the cluster materialises it",
  );
  const password = `demo-${Math.random().toString(36).slice(2, 12)}`;
  const plain = stringify(secret("db-credentials", "shop", { username: "shop", password }));
  const certUrl = `${c.opsUrl}/v1/cert.pem`;
  const sealed = await cli(["seal", "--cert", certUrl, "-o", "yaml"], plain);
  c.out.say(
    `$ gitops-guard seal --cert ${certUrl} -o yaml < db-credentials.yaml > shop/db-credentials.sealed.yaml`,
  );
  const commit = c.repo.commit(
    "shop/db-credentials.sealed.yaml",
    sealed,
    "shop: database credentials (sealed)",
  );
  c.out.say(`committed ${commit}; asking the GitSync to sync now (as a push to /hooks/git does)`);
  await requestShopSync(c.admin);
  const status = await until("the sync of the sealed Secret", () => readySync(c.admin, commit));
  c.out.say(`synced ${status.lastAppliedRevision ?? "?"}`);
  const data = await until("the materialised Secret", async () => {
    const d = await secretData(c.admin, "shop", "db-credentials");
    return d?.["password"] === Buffer.from(password).toString("base64") ? d : undefined;
  });
  c.out.say(`Secret shop/db-credentials holds ${describeSecret(data)}, equal to what was sealed`);
  c.out.result("seal, commit, materialise", `Secret created from commit ${commit}`);
}
