/** The input of the seal modes (-f FILE or stdin) and the output format they write. */
import { flattenLists } from "../crypto/sealing/shapes.js";
import { ErrorCodes, GuardError, type ErrorCode } from "../errors.js";
import { parseDocuments, type OutputFormat } from "./documents.js";
import { readInputFile, type CliIo } from "./io.js";
import type { SealFlags } from "./seal.js";

/** The input: -f FILE or stdin, with the name messages use for it. */
export async function readInput(
  flags: Pick<SealFlags, "secretFile">,
  io: CliIo,
): Promise<{ text: string; source: string }> {
  if (flags.secretFile !== undefined) {
    return {
      text: (await readInputFile(flags.secretFile, "-f")).toString("utf8"),
      source: flags.secretFile,
    };
  }
  return { text: (await io.readStdin()).toString("utf8"), source: "stdin" };
}

/** kubeseal writes YAML when -w names a .yaml or .yml file. */
export function outputFormat(flags: Pick<SealFlags, "format" | "sealedSecretFile">): OutputFormat {
  return /\.ya?ml$/.test(flags.sealedSecretFile ?? "") ? "yaml" : flags.format;
}

/** Each document of the input, with the name messages use for it. */
export async function inputDocuments(
  flags: Pick<SealFlags, "secretFile">,
  io: CliIo,
  code: ErrorCode = ErrorCodes.SEAL_INPUT_INVALID,
): Promise<{ doc: unknown; where: string }[]> {
  const { text, source } = await readInput(flags, io);
  const documents = flattenLists(await parseDocuments(text, source, code));
  if (documents.length === 0) throw new GuardError(code, `${source} holds no documents`);
  return documents.map((doc, i) => ({
    doc,
    where: documents.length === 1 ? source : `${source}, document ${i + 1}`,
  }));
}
