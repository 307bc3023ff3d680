import {
  decryptSops,
  formatForName,
  looksLikeSops,
  parseAgeIdentities,
  renderSops,
  type AgeIdentity,
  type SopsFormat,
  type SopsKeys,
} from "../../crypto/sops/index.js";
import { ErrorCodes, GuardError, errorMessage } from "../../errors.js";

/**
 * The reconciler's use of src/crypto/sops: whole files of the repository are decrypted, MAC
 * verified, before anything parses or builds them (the MAC covers the file as sops wrote it, so
 * decrypting after kustomize has rewritten it would be unverifiable). Plaintext stays in memory,
 * except where kustomize must read it from a folder (see render.ts).
 */
export interface SopsFiles {
  /** The file's plaintext in its own format; rejects with RENDER_SOPS_FAILED naming the file. */
  decrypt(name: string, content: Buffer): Promise<string | Uint8Array>;
}

// Formats told apart by file name. A "binary" sops file (any other name) is not looked for: its
// marker (`"sops":`) is too common in ordinary files to guess from.
const SCANNED: ReadonlySet<SopsFormat> = new Set(["yaml", "json", "dotenv", "ini"]);

/** True when a repository file is a SOPS file of a format the reconciler decrypts. */
export function isSopsFile(name: string, content: Buffer): boolean {
  const format = formatForName(name);
  return SCANNED.has(format) && looksLikeSops(content, format);
}

/** age identities from every `*.agekey` entry of the decryption Secret (Flux's convention). */
export async function ageKeysFromSecret(
  secretName: string,
  data: Readonly<Record<string, string>>,
): Promise<SopsKeys> {
  const age: AgeIdentity[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (!key.endsWith(".agekey")) continue;
    const text = Buffer.from(value, "base64").toString("utf8");
    age.push(...(await parseAgeIdentities(text, `Secret ${secretName} key ${key}`)));
  }
  if (age.length === 0) {
    throw new GuardError(
      ErrorCodes.RENDER_SOPS_FAILED,
      `Secret ${secretName} (spec.decryption.secretRef) has no *.agekey entry`,
    );
  }
  return { age };
}

export function sopsFiles(keys: SopsKeys): SopsFiles {
  return {
    async decrypt(name, content) {
      try {
        return renderSops(await decryptSops({ name, content }, keys));
      } catch (err: unknown) {
        // The library's messages name the file and keys tried, never a value.
        throw new GuardError(ErrorCodes.RENDER_SOPS_FAILED, `cannot decrypt ${errorMessage(err)}`, {
          cause: err,
          details: { file: name },
        });
      }
    },
  };
}
