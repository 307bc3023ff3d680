/** Prints decrypted documents in any sops format; by default in the file's own format. */
import { ErrorCodes, GuardError } from "../../errors.js";
import type { SopsFormat } from "./formats.js";
import { writeJson, writeJsonArray } from "./json-write.js";
import { writeBinary, writeDotenv, writeIni } from "./text-write.js";
import type { SopsDocument } from "./tree.js";
import { writeYaml } from "./yaml-write.js";

export interface Renderable {
  readonly format: SopsFormat;
  readonly documents: readonly SopsDocument[];
}

function single(documents: readonly SopsDocument[], output: SopsFormat): SopsDocument {
  const [first, ...rest] = documents;
  if (first === undefined || rest.length > 0) {
    throw new GuardError(
      ErrorCodes.SOPS_OUTPUT_UNSUPPORTED,
      `${output} output holds exactly one document; this file has ${documents.length}`,
    );
  }
  return first;
}

/**
 * The decrypted file as text (bytes for binary). JSON output of several YAML documents is an
 * array of them, where sops prints only the first.
 */
export function renderSops(
  decrypted: Renderable,
  output: SopsFormat = decrypted.format,
): string | Uint8Array {
  const { documents } = decrypted;
  switch (output) {
    case "yaml":
      return writeYaml(documents);
    case "json":
      return documents.length === 1
        ? writeJson(single(documents, output))
        : writeJsonArray(documents);
    case "dotenv":
      return writeDotenv(single(documents, output));
    case "ini":
      return writeIni(single(documents, output));
    case "binary":
      return writeBinary(single(documents, output));
  }
}
