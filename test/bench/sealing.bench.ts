// Sealing: unseal and seal rates against the raw node:crypto RSA-4096 operations measured in
// the same run (the keyring's key selection and the AES part must cost little: goal unseal /
// raw decrypt >= 0.8), and `gitops-guard seal` wall time against `kubeseal` wall time on the
// same input (goal <= 1.5), medians of 21 runs each. The CLI runs as it ships: dist/ as
// `npm run build` bundles it (built first when stale). cli-startup.bench.ts has its start-up.
import { spawnSync } from "node:child_process";
import { constants, privateDecrypt, publicEncrypt, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Keyring } from "../../src/crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../../src/crypto/sealing/keygen.js";
import { readSecret, sealSecret } from "../../src/crypto/sealing/seal.js";
import type { SealedSecret } from "../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../src/crypto/sealing/unseal.js";
import { ensureGoTool } from "../tools/go-tools.js";
import { ensureBuilt } from "./bitnami-controller.js";
import { fmt, median, ratioLine } from "./stats.js";

const OPS = 200;
const ROUNDS = 5;
const CLI_RUNS = 21;

function perSecond(ops: number, fn: () => void): number {
  const start = performance.now();
  fn();
  return ops / ((performance.now() - start) / 1000);
}

function sealedObjects(key: GeneratedKey, count: number): SealedSecret[] {
  return Array.from({ length: count }, (_, i) => {
    const doc = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: `s${i}`, namespace: "bench" },
      data: { v: randomBytes(64).toString("base64") },
    };
    return sealSecret(readSecret(doc, "bench"), { publicKey: key.key.publicKey });
  });
}

interface Case {
  readonly label: string;
  readonly baseline: "decrypt" | "encrypt";
  readonly run: () => number;
}

/** Every case once per round, interleaved with the baselines, after one warm-up round. */
function measure(cases: readonly Case[], baselines: Record<Case["baseline"], () => number>): void {
  const samples = new Map<string, number[]>();
  const add = (label: string, value: number): void => {
    samples.set(label, [...(samples.get(label) ?? []), value]);
  };
  for (let round = 0; round <= ROUNDS; round++) {
    const results: [string, number][] = [
      ["decrypt", baselines.decrypt()],
      ["encrypt", baselines.encrypt()],
      ...cases.map((c): [string, number] => [c.label, c.run()]),
    ];
    if (round > 0) for (const [label, value] of results) add(label, value);
  }
  const at = (label: string): number => median(samples.get(label) ?? []);
  console.log(
    `RSA-4096, ${OPS} values x ${ROUNDS} rounds (median), one 64-byte value per SealedSecret`,
  );
  for (const c of cases) console.log(ratioLine(c.label, at(c.label), at(c.baseline), "values/s"));
  const ratio = at(cases[0]?.label ?? "") / at("decrypt");
  console.log(
    `goal unseal / raw RSA decrypt >= 0.8: ${fmt(ratio, 2)}, ${ratio >= 0.8 ? "met" : "NOT met"}`,
  );
}

async function rates(): Promise<void> {
  const keys = await Promise.all(
    [0, 1, 2, 3, 4].map((i) => generateSealingKey({ now: Date.UTC(2026, 0, 1 + i) })),
  );
  const newest = keys[4]!;
  const oldest = keys[0]!;
  const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" };
  const blocks = Array.from({ length: OPS }, () =>
    publicEncrypt({ key: newest.key.publicKey, ...oaep }, randomBytes(32)),
  );
  const fresh = sealedObjects(newest, OPS);
  const old = sealedObjects(oldest, OPS);
  const unsealWith = (objects: SealedSecret[], ring: () => Keyring) => (): number => {
    const keyring = ring();
    return perSecond(objects.length, () => {
      for (const ss of objects) unsealSealedSecret(ss, { keyring });
    });
  };
  const all = (): Keyring => new Keyring(keys.map((k) => k.key));
  measure(
    [
      {
        label: "unseal, 1 key",
        baseline: "decrypt",
        run: unsealWith(fresh, () => new Keyring([newest.key])),
      },
      {
        label: "unseal, 5 keys, sealed with the newest",
        baseline: "decrypt",
        run: unsealWith(fresh, all),
      },
      {
        label: "unseal, 5 keys, sealed with the oldest",
        baseline: "decrypt",
        run: unsealWith(old, all),
      },
      {
        label: "seal (whole SealedSecret)",
        baseline: "encrypt",
        run: () =>
          perSecond(OPS, () => {
            for (let i = 0; i < OPS; i++) {
              const doc = {
                apiVersion: "v1",
                kind: "Secret",
                metadata: { name: `s${i}`, namespace: "bench" },
                stringData: { v: "value" },
              };
              sealSecret(readSecret(doc, "bench"), { publicKey: newest.key.publicKey });
            }
          }),
      },
    ],
    {
      decrypt: () =>
        perSecond(OPS, () => {
          for (const b of blocks) privateDecrypt({ key: newest.key.privateKey, ...oaep }, b);
        }),
      encrypt: () =>
        perSecond(OPS, () => {
          for (let i = 0; i < OPS; i++)
            publicEncrypt({ key: newest.key.publicKey, ...oaep }, randomBytes(32));
        }),
    },
  );
}

function wallMs(
  command: string,
  args: readonly string[],
  input: string,
  env: NodeJS.ProcessEnv,
): number[] {
  const times: number[] = [];
  for (let i = 0; i < CLI_RUNS; i++) {
    const start = performance.now();
    const result = spawnSync(command, args, { input, env });
    if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr.toString()}`);
    times.push(performance.now() - start);
  }
  return times;
}

async function cliWall(): Promise<void> {
  const kubeseal = ensureGoTool("kubeseal");
  const bin = ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), "gg-bench-seal-"));
  try {
    const key = await generateSealingKey({ now: Date.now() - 60_000 });
    const cert = join(dir, "cert.pem");
    writeFileSync(cert, key.certificatePem);
    const env = { PATH: process.env.PATH ?? "", HOME: dir };
    const json = JSON.stringify({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db", namespace: "prod" },
      stringData: { password: "hunter2", user: "admin" },
    });
    const yaml =
      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: prod\nstringData:\n  password: hunter2\n  user: admin\n";
    const node = process.execPath;
    const floor = median(wallMs(node, ["-e", "0"], "", env));
    console.log(
      `\nCLI wall time, median of ${CLI_RUNS} runs (Node's own start-up, node -e 0: ${fmt(floor)} ms)`,
    );
    for (const [label, input, args] of [
      ["seal JSON -> JSON", json, [] as string[]],
      ["seal YAML -> YAML", yaml, ["-o", "yaml"]],
    ] as const) {
      const theirs = median(wallMs(kubeseal, ["--cert", cert, ...args], input, env));
      const ours = median(wallMs(node, [bin, "seal", "--cert", cert, ...args], input, env));
      console.log(ratioLine(`gitops-guard ${label} vs kubeseal`, ours, theirs, "ms"));
    }
    console.log(
      `floor: Node start-up alone / kubeseal is already ${fmt(floor / median(wallMs(kubeseal, ["--cert", cert], json, env)), 2)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await rates();
await cliWall();
