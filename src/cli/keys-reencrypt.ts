/**
 * `gitops-guard keys reencrypt`: moves a checkout to the newest key (or --cert's) offline.
 * Only values sealed for another key are sealed again, and each is written over the old one
 * in the file's text, so the rest of the file (other documents, comments, quoting, YAML or
 * JSON layout) is kept byte for byte; files with nothing to move are not written at all. A
 * file with a SealedSecret that does not open is left as it was and reported; the others
 * are still done, and the command then exits 1. Values are never printed.
 */
import { assertCertificateCurrent, parseCertificate } from "../crypto/sealing/certificate.js";
import type { Keyring } from "../crypto/sealing/keyring.js";
import { reencryptStaleItems, type ReencryptTarget } from "../crypto/sealing/reencrypt.js";
import { objectName } from "../crypto/sealing/shapes.js";
import { ErrorCodes, GuardError } from "../errors.js";
import { realClock } from "../runtime/clock.js";
import { readInputFile, type CliIo } from "./io.js";
import { loadKeyring } from "./key-files.js";
import {
  placesOf,
  readManifests,
  replaceFile,
  replaceValues,
  type ManifestFile,
  type SealedDocument,
  type ValueSpan,
} from "./keys-manifests.js";
import type { KeysReencryptFlags } from "./keys.js";

interface Edit {
  readonly span: ValueSpan;
  readonly value: string;
}

interface DocumentPlan {
  readonly edits: readonly Edit[];
  /** "<file:doc> SealedSecret ns/name: 2 values from SHA256:..." */
  readonly summary: string;
}

interface FilePlan {
  readonly edits: readonly Edit[];
  readonly changes: readonly string[];
  readonly failures: readonly GuardError[];
  /** SealedSecrets already sealed for the target key only. */
  readonly current: number;
}

async function targetOf(cert: string | undefined, keyring: Keyring): Promise<ReencryptTarget> {
  if (cert === undefined) {
    const latest = keyring.latest();
    if (latest === undefined)
      throw new GuardError(ErrorCodes.KEYS_NONE, "--private-key holds no key");
    return latest;
  }
  const text = (await readInputFile(cert, "--cert", ErrorCodes.SEAL_CERT_INVALID)).toString("utf8");
  const parsed = parseCertificate(text, `--cert ${cert}`);
  assertCertificateCurrent(parsed, realClock().now(), `--cert ${cert}`);
  return parsed;
}

/** The same error, named by the file and document it came from. */
function located(doc: SealedDocument, err: GuardError): GuardError {
  if (err.message.startsWith(doc.where)) return err;
  return new GuardError(err.code, `${doc.where}: ${err.message}`, { details: err.details });
}

function editsFor(doc: SealedDocument, values: Readonly<Record<string, string>>): Edit[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const spans = doc.spans.get(key);
    if (spans === undefined) {
      throw new GuardError(
        ErrorCodes.UNSEAL_INPUT_INVALID,
        `value ${JSON.stringify(key)} is not written as a plain YAML or JSON string (an alias?), ` +
          "so it cannot be replaced in place",
      );
    }
    return spans.map((span) => ({ span, value }));
  });
}

function planDocument(
  doc: SealedDocument,
  target: ReencryptTarget,
  options: { keyring: Keyring; otherObjects: readonly { namespace: string; name: string }[] },
): DocumentPlan | undefined {
  const ss = doc.sealed;
  if (ss instanceof GuardError) throw ss;
  const { values, from } = reencryptStaleItems(ss, target, options);
  if (from.size === 0) return undefined;
  const total = Object.keys(ss.spec.encryptedData).length;
  const keys = [...new Set(from.values())].join(", ");
  return {
    edits: editsFor(doc, values),
    summary: `${doc.where} SealedSecret ${objectName(ss.metadata)}: ${from.size} of ${total} values from ${keys}`,
  };
}

function planFile(
  file: ManifestFile,
  target: ReencryptTarget,
  keyring: Keyring,
  otherObjects: readonly { namespace: string; name: string }[],
): FilePlan {
  const plan = {
    edits: [] as Edit[],
    changes: [] as string[],
    failures: [] as GuardError[],
    current: 0,
  };
  for (const doc of file.documents) {
    try {
      const result = planDocument(doc, target, { keyring, otherObjects });
      if (result === undefined) plan.current++;
      else {
        plan.edits.push(...result.edits);
        plan.changes.push(result.summary);
      }
    } catch (err: unknown) {
      if (!(err instanceof GuardError)) throw err;
      plan.failures.push(located(doc, err));
    }
  }
  return plan;
}

interface Totals {
  objects: number;
  files: number;
  current: number;
  failed: number;
}

async function applyPlan(
  file: ManifestFile,
  plan: FilePlan,
  flags: KeysReencryptFlags,
  io: CliIo,
): Promise<void> {
  if (plan.failures.length > 0) {
    for (const err of plan.failures) io.output.writeErr(`error ${err.code}: ${err.message}\n`);
    io.output.writeErr(`left as it was: ${file.path}\n`);
    return;
  }
  if (plan.edits.length === 0) return;
  if (flags.dryRun !== true) await replaceFile(file.path, replaceValues(file.text, plan.edits));
  const verb = flags.dryRun === true ? "would re-encrypt" : "re-encrypted";
  io.output.writeOut(plan.changes.map((c) => `${verb} ${c}\n`).join(""));
}

function summary(totals: Totals, target: ReencryptTarget, dryRun: boolean): string {
  const done = dryRun ? "would be re-encrypted" : "re-encrypted";
  return (
    `${totals.objects} SealedSecrets in ${totals.files} files ${done} for ${target.fingerprint}; ` +
    `${totals.current} already sealed for it; ${totals.failed} not opened` +
    (dryRun ? " (dry run: nothing written)" : "") +
    "\n"
  );
}

export async function keysReencrypt(
  paths: readonly string[],
  flags: KeysReencryptFlags,
  io: CliIo,
): Promise<void> {
  const keyring = await loadKeyring(flags.privateKey, "--private-key");
  const target = await targetOf(flags.cert, keyring);
  const manifests = await readManifests(paths);
  for (const skipped of manifests.skipped) io.output.writeErr(`skipped ${skipped.message}\n`);
  const otherObjects = placesOf(manifests.files);
  const totals: Totals = { objects: 0, files: 0, current: 0, failed: 0 };
  for (const file of manifests.files) {
    const plan = planFile(file, target, keyring, otherObjects);
    await applyPlan(file, plan, flags, io);
    totals.current += plan.current;
    totals.failed += plan.failures.length;
    if (plan.failures.length > 0 || plan.changes.length === 0) continue;
    totals.objects += plan.changes.length;
    totals.files++;
  }
  io.output.writeErr(summary(totals, target, flags.dryRun === true));
  if (totals.failed > 0) {
    throw new GuardError(
      ErrorCodes.UNSEAL_NOT_VALID,
      `${totals.failed} SealedSecrets do not open with the keys given; their files were left as they were`,
    );
  }
}
