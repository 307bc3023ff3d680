/**
 * `seal --merge-into FILE`: seals the input's items for the SealedSecret in FILE and writes
 * them into it in place, with the input's template labels and annotations (kubeseal's
 * behaviour). Two differences on purpose: the values are sealed for FILE's own scope (kubeseal
 * uses the input's, so merging a plain Secret into a cluster-wide SealedSecret gave values that
 * never open), and a YAML file is edited as a document, keeping its comments and layout.
 */
import type { Document } from "yaml";
import {
  readSecret,
  sealItemsFor,
  type SealOptions,
  type SecretInput,
} from "../crypto/sealing/seal.js";
import { readSealedSecret, type SealedSecret } from "../crypto/sealing/sealed-secret.js";
import { scopeOf, withScopeAnnotations } from "../crypto/sealing/scope.js";
import { ErrorCodes, GuardError } from "../errors.js";
import { formatDocuments, parseDocuments, type OutputFormat } from "./documents.js";
import { readInputFile, writeFileAtomically, type CliIo } from "./io.js";
import type { SealFlags } from "./seal.js";
import { inputDocuments } from "./seal-input.js";

const LAST_APPLIED = /last-applied-configuration$/;

interface Update {
  readonly encryptedData: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

async function readTarget(file: string): Promise<{ text: string; target: SealedSecret }> {
  const text = (
    await readInputFile(file, "--merge-into", ErrorCodes.UNSEAL_INPUT_INVALID)
  ).toString("utf8");
  const [doc, extra] = await parseDocuments(text, file, ErrorCodes.UNSEAL_INPUT_INVALID);
  if (doc === undefined || extra !== undefined) {
    throw new GuardError(
      ErrorCodes.UNSEAL_INPUT_INVALID,
      `--merge-into ${file} must hold exactly one SealedSecret`,
    );
  }
  return { text, target: readSealedSecret(doc, file) };
}

function update(
  target: SealedSecret,
  secrets: readonly SecretInput[],
  options: SealOptions,
): Update {
  const items = new Map<string, Buffer>();
  let labels: Record<string, string> = {};
  let annotations: Record<string, string> = {};
  for (const secret of secrets) {
    for (const [key, value] of secret.items) items.set(key, value);
    labels = { ...labels, ...secret.metadata.labels };
    annotations = {
      ...annotations,
      ...withScopeAnnotations(secret.metadata.annotations, "strict"),
    };
  }
  if (items.size === 0 && options.allowEmptyData !== true) {
    throw new GuardError(
      ErrorCodes.SEAL_INPUT_INVALID,
      "the input has no data to merge (--allow-empty-data merges anyway)",
    );
  }
  const kept = Object.entries(annotations).filter(([k]) => !LAST_APPLIED.test(k));
  return {
    encryptedData: sealItemsFor(target, items, options.publicKey),
    labels,
    annotations: Object.fromEntries(kept),
  };
}

function checkScope(flags: SealFlags, target: SealedSecret, file: string): void {
  const scope = scopeOf(target.metadata.annotations);
  if (flags.scope !== undefined && flags.scope !== scope) {
    throw new GuardError(
      ErrorCodes.SEAL_INPUT_INVALID,
      `--scope ${flags.scope} contradicts ${file}, a ${scope} SealedSecret: its values would not open together`,
    );
  }
}

function setAll(
  doc: Document,
  path: readonly string[],
  values: Readonly<Record<string, string>>,
): void {
  for (const [key, value] of Object.entries(values)) doc.setIn([...path, key], value);
}

async function editYaml(text: string, change: Update): Promise<string> {
  const { parseDocument } = await import("yaml");
  const doc = parseDocument(text, { version: "1.1" });
  setAll(doc, ["spec", "encryptedData"], change.encryptedData);
  setAll(doc, ["spec", "template", "metadata", "labels"], change.labels);
  setAll(doc, ["spec", "template", "metadata", "annotations"], change.annotations);
  return doc.toString({ lineWidth: 0 });
}

function merged(target: SealedSecret, change: Update): SealedSecret {
  const template = target.spec.template ?? {};
  const meta = template.metadata ?? {};
  const labels = { ...meta.labels, ...change.labels };
  const annotations = { ...meta.annotations, ...change.annotations };
  return {
    ...target,
    spec: {
      ...target.spec,
      template: {
        ...template,
        metadata: {
          ...meta,
          ...(Object.keys(labels).length > 0 ? { labels } : {}),
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        },
      },
      encryptedData: { ...target.spec.encryptedData, ...change.encryptedData },
    },
  };
}

export async function mergeInto(flags: SealFlags, io: CliIo, options: SealOptions): Promise<void> {
  const file = flags.mergeInto ?? "";
  const { text, target } = await readTarget(file);
  checkScope(flags, target, file);
  const secrets = (await inputDocuments(flags, io)).map(({ doc, where }) => readSecret(doc, where));
  const change = update(target, secrets, options);
  const written: OutputFormat = /^\s*\{/.test(text) ? "json" : "yaml";
  const format = flags.formatGiven ? flags.format : written;
  const out =
    format === "yaml" && written === "yaml"
      ? await editYaml(text, change)
      : await formatDocuments([merged(target, change)], format);
  await writeFileAtomically(file, out);
}
