import {
  createAwsKmsDecryptor,
  decryptSops,
  formatForName,
  looksLikeSops,
  renderSops,
  type AwsKmsDecryptor,
  type KmsDecryptor,
  type SopsFormat,
} from "../../crypto/sops/index.js";
import { ErrorCodes, GuardError, errorMessage } from "../../errors.js";
import { AWS_KMS_ENTRY, type DecryptionKeys } from "./decryption-secret.js";

/**
 * The reconciler's use of src/crypto/sops: whole files of the repository are decrypted, MAC
 * verified, before anything parses or builds them (the MAC covers the file as sops wrote it, so
 * decrypting after kustomize has rewritten it would be unverifiable). Plaintext stays in memory,
 * except where kustomize must read it from a folder (see render.ts).
 */
export interface SopsFiles {
  /** The file's plaintext in its own format; rejects with RENDER_SOPS_FAILED naming the file. */
  decrypt(name: string, content: Buffer): Promise<string | Uint8Array>;
  close(): void;
}

// Formats told apart by file name. A "binary" sops file (any other name) is not looked for: its
// marker (`"sops":`) is too common in ordinary files to guess from.
const SCANNED: ReadonlySet<SopsFormat> = new Set(["yaml", "json", "dotenv", "ini"]);

/** True when a repository file is a SOPS file of a format the reconciler decrypts. */
export function isSopsFile(name: string, content: Buffer): boolean {
  const format = formatForName(name);
  return SCANNED.has(format) && looksLikeSops(content, format);
}

/** How the reconciler reaches AWS KMS (Config.sopsKms). */
export interface SopsKmsSettings {
  /** KMS endpoint URL (an emulator, a VPC endpoint); absent: the SDK resolves it. */
  readonly endpoint?: string;
  /** STS endpoint URL, for files that name a role; absent: the SDK resolves it. */
  readonly stsEndpoint?: string;
  /**
   * Lend the controller's own AWS identity (the SDK's default chain: IRSA, instance role) to
   * GitSyncs whose Secret has no sops.aws-kms entry. Off by default: on a shared cluster it
   * lets any GitSync that sets spec.decryption open files sealed to the controller's keys.
   */
  readonly ambientCredentials: boolean;
}

/** Where a KMS-encrypted file's keys come from, named in the error when there is no way. */
function kmsFor(
  keys: DecryptionKeys,
  settings: SopsKmsSettings,
  source: string,
): AwsKmsDecryptor | KmsDecryptor {
  if (keys.aws === undefined && !settings.ambientCredentials) {
    return {
      decrypt() {
        return Promise.reject(
          new Error(`no AWS credentials: add a ${AWS_KMS_ENTRY} entry to ${source}`),
        );
      },
    };
  }
  return createAwsKmsDecryptor({
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(settings.stsEndpoint === undefined ? {} : { stsEndpoint: settings.stsEndpoint }),
    ...(keys.aws === undefined ? {} : { credentials: keys.aws }),
  });
}

/**
 * The files of one render, opened with the decryption Secret's keys (source names it in
 * errors). close() releases the AWS clients once the render is done.
 */
export function sopsFiles(
  keys: DecryptionKeys,
  settings: SopsKmsSettings = { ambientCredentials: false },
  source = "the decryption Secret",
): SopsFiles {
  const kms = kmsFor(keys, settings, source);
  return {
    async decrypt(name, content) {
      try {
        return renderSops(await decryptSops({ name, content }, { age: keys.age, kms }));
      } catch (err: unknown) {
        // The library's messages name the file and keys tried, never a value.
        throw new GuardError(ErrorCodes.RENDER_SOPS_FAILED, `cannot decrypt ${errorMessage(err)}`, {
          cause: err,
          details: { file: name },
        });
      }
    },
    close() {
      if ("close" in kms) kms.close();
    },
  };
}
