/**
 * What a GitSync's decryption Secret (spec.decryption.secretRef) holds, read as Flux's
 * kustomize-controller reads it, so a Flux user's Secret works unchanged: every `*.agekey`
 * entry holds age identities, and `sops.aws-kms` holds YAML with static AWS credentials.
 */
import { isMap, isScalar, parseDocument } from "yaml";
import { parseAgeIdentities, type AgeIdentity } from "../../crypto/sops/index.js";
import type { AwsCredentials } from "../../crypto/sops/index.js";
import { ErrorCodes, GuardError } from "../../errors.js";

export const AWS_KMS_ENTRY = "sops.aws-kms";

export interface DecryptionKeys {
  readonly age: readonly AgeIdentity[];
  /** From `sops.aws-kms`; absent when the Secret has no such entry. */
  readonly aws?: AwsCredentials;
}

function invalid(where: string, why: string): GuardError {
  return new GuardError(ErrorCodes.RENDER_SOPS_FAILED, `${where} ${why}`);
}

/**
 * Flux's fields: aws_access_key_id and aws_secret_access_key, aws_session_token optional.
 * The parser's own messages are never passed on: they quote the text around the fault, and
 * that text is a credential.
 */
function awsCredentials(where: string, text: string): AwsCredentials {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0 || !isMap(doc.contents)) {
    throw invalid(where, "is not a YAML mapping of aws_access_key_id, aws_secret_access_key");
  }
  const field = (name: string, required: boolean): string | undefined => {
    const node = doc.contents !== null && isMap(doc.contents) ? doc.contents.get(name, true) : null;
    if (node === undefined || node === null) {
      if (required) throw invalid(where, `has no ${name}`);
      return undefined;
    }
    if (!isScalar(node) || typeof node.value !== "string" || node.value === "") {
      throw invalid(where, `field ${name} must be a non-empty string`);
    }
    return node.value;
  };
  const accessKeyId = field("aws_access_key_id", true) ?? "";
  const secretAccessKey = field("aws_secret_access_key", true) ?? "";
  const sessionToken = field("aws_session_token", false);
  return { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
}

/**
 * The keys of the decryption Secret. A Secret with neither kind of entry is refused unless
 * the controller lends its own AWS identity (allowAmbient), which then is the only key.
 */
export async function decryptionKeys(
  secretName: string,
  data: Readonly<Record<string, string>>,
  allowAmbient: boolean,
): Promise<DecryptionKeys> {
  const age: AgeIdentity[] = [];
  let aws: AwsCredentials | undefined;
  for (const [key, value] of Object.entries(data)) {
    const where = `Secret ${secretName} key ${key}`;
    const text = Buffer.from(value, "base64").toString("utf8");
    if (key.endsWith(".agekey")) age.push(...(await parseAgeIdentities(text, where)));
    else if (key === AWS_KMS_ENTRY) aws = awsCredentials(where, text);
  }
  if (age.length === 0 && aws === undefined && !allowAmbient) {
    throw new GuardError(
      ErrorCodes.RENDER_SOPS_FAILED,
      `Secret ${secretName} (spec.decryption.secretRef) has no *.agekey or ${AWS_KMS_ENTRY} entry`,
    );
  }
  return { age, ...(aws === undefined ? {} : { aws }) };
}
