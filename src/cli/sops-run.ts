/**
 * The sops commands' work: read the file and the key material (files named by flags and the
 * environment the CLI was given), call the pure library, print. Loaded on demand by sops.ts.
 */
import { readFile, writeFile } from "node:fs/promises";
import type { Environment } from "../config.js";
import {
  checkSops,
  createAwsKmsDecryptor,
  decryptSops,
  parseAgeIdentities,
  renderSops,
  type AgeIdentity,
  type AwsKmsOptions,
  type SopsCheck,
} from "../crypto/sops/index.js";
import { ErrorCodes, GuardError } from "../errors.js";
import type { CliOutput, ProgramDeps } from "./program.js";
import type { SopsCheckFlags, SopsCommonFlags, SopsDecryptFlags } from "./sops.js";

function outputOf(deps: ProgramDeps): CliOutput {
  return (
    deps.output ?? {
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    }
  );
}

async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err: unknown) {
    const reason = (err as { code?: string }).code === "ENOENT" ? "no such file" : String(err);
    throw new GuardError(ErrorCodes.SOPS_INPUT_INVALID, `${what} ${path}: ${reason}`, {
      cause: err,
    });
  }
}

/** --age-key-file files, then SOPS_AGE_KEY_FILE, then SOPS_AGE_KEY, as sops reads them. */
async function ageIdentities(flags: SopsCommonFlags, env: Environment): Promise<AgeIdentity[]> {
  const files = [...flags.ageKeyFile];
  if (env.SOPS_AGE_KEY_FILE !== undefined && env.SOPS_AGE_KEY_FILE !== "") {
    files.push(env.SOPS_AGE_KEY_FILE);
  }
  const identities: AgeIdentity[] = [];
  for (const file of files) {
    const text = (await readInput(file, "age key file")).toString("utf8");
    identities.push(...(await parseAgeIdentities(text, file)));
  }
  if (env.SOPS_AGE_KEY !== undefined && env.SOPS_AGE_KEY !== "") {
    identities.push(...(await parseAgeIdentities(env.SOPS_AGE_KEY, "SOPS_AGE_KEY")));
  }
  return identities;
}

function firstSet(...values: (string | undefined)[]): string | undefined {
  return values.find((value) => value !== undefined && value !== "");
}

/** KMS settings from the flags and the CLI's environment (never process.env directly). */
function kmsOptions(flags: SopsCommonFlags, deps: ProgramDeps): AwsKmsOptions {
  const { env } = deps;
  const endpoint = firstSet(flags.kmsEndpoint, env.AWS_ENDPOINT_URL_KMS, env.AWS_ENDPOINT_URL);
  const stsEndpoint = firstSet(env.AWS_ENDPOINT_URL_STS, env.AWS_ENDPOINT_URL);
  const accessKeyId = firstSet(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = firstSet(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = firstSet(env.AWS_SESSION_TOKEN);
  const host = deps.hostname.replace(/[^\w+=,.@-]/g, "");
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(stsEndpoint === undefined ? {} : { stsEndpoint }),
    ...(accessKeyId === undefined || secretAccessKey === undefined
      ? {}
      : {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(sessionToken === undefined ? {} : { sessionToken }),
          },
        }),
    roleSessionName: `gitops-guard@${host}`.slice(0, 64),
  };
}

function input(file: string, flags: SopsCommonFlags, content: Buffer) {
  return {
    name: file,
    content,
    ...(flags.inputType === undefined ? {} : { format: flags.inputType }),
  };
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function asText(rendered: string | Uint8Array): string {
  if (typeof rendered === "string") return rendered;
  try {
    return UTF8.decode(rendered);
  } catch {
    throw new GuardError(
      ErrorCodes.SOPS_OUTPUT_UNSUPPORTED,
      "the decrypted file is binary, not text: write it with --out FILE",
    );
  }
}

export async function runSopsDecrypt(
  file: string,
  flags: SopsDecryptFlags,
  deps: ProgramDeps,
): Promise<void> {
  const content = await readInput(file, "file");
  const age = await ageIdentities(flags, deps.env);
  const kms = createAwsKmsDecryptor(kmsOptions(flags, deps));
  try {
    const decrypted = await decryptSops(input(file, flags, content), { age, kms });
    const rendered = renderSops(decrypted, flags.output ?? decrypted.format);
    if (flags.out !== undefined) {
      await writeFile(flags.out, rendered, { mode: 0o600 });
      return;
    }
    outputOf(deps).writeOut(asText(rendered));
  } finally {
    kms.close();
  }
}

function report(check: SopsCheck, kmsTried: boolean): string {
  const groups = new Set(check.keys.map((k) => k.group)).size;
  const lines = [
    `${check.name}: ${check.canDecrypt ? "can" : "cannot"} be decrypted with the local keys`,
  ];
  for (const key of check.keys) {
    const where = groups > 1 ? `group ${key.group + 1}: ` : "";
    const hint = !kmsTried && key.key.startsWith("kms:") ? " (pass --kms to try it)" : "";
    const state = key.opened ? "opens" : `does not open: ${key.reason ?? "unknown"}${hint}`;
    lines.push(`  ${where}${key.key}: ${state}`);
  }
  return `${lines.join("\n")}\n`;
}

export async function runSopsCheck(
  file: string,
  flags: SopsCheckFlags,
  deps: ProgramDeps,
): Promise<void> {
  const content = await readInput(file, "file");
  const age = await ageIdentities(flags, deps.env);
  const kms = flags.kms === true ? createAwsKmsDecryptor(kmsOptions(flags, deps)) : undefined;
  try {
    const check = await checkSops(input(file, flags, content), {
      age,
      ...(kms === undefined ? {} : { kms }),
    });
    const text =
      flags.json === true
        ? `${JSON.stringify(check, null, 2)}\n`
        : report(check, kms !== undefined);
    outputOf(deps).writeOut(text);
    if (!check.canDecrypt) {
      throw new GuardError(ErrorCodes.SOPS_NO_KEY, `${file}: no local key opens it`, {
        details: { file },
      });
    }
  } finally {
    kms?.close();
  }
}
