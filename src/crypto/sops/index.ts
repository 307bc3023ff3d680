/**
 * SOPS decryption with the MAC always verified: YAML (several documents too), JSON, dotenv,
 * INI and binary files; age (X25519 and post-quantum) and AWS KMS keys; Shamir key groups.
 * Pure: callers pass the file's bytes and the key material; KMS goes through KmsDecryptor.
 */
export { decryptSops, parseSopsFile, type SopsDecrypted, type SopsInput } from "./decrypt.js";
export { checkSops, type SopsCheck } from "./check.js";
export { renderSops } from "./render.js";
export { toPlainValue, type PlainValue } from "./plain.js";
export { parseAgeIdentities, type AgeIdentity } from "./age.js";
export type { SopsKeys, KeyAttempt } from "./data-key.js";
export { kmsRegion, type KmsDecryptor } from "./kms.js";
export {
  createAwsKmsDecryptor,
  type AwsCredentials,
  type AwsKmsDecryptor,
  type AwsKmsOptions,
} from "./aws-kms.js";
export { formatForName, isSopsFormat, SOPS_FORMATS, type SopsFormat } from "./formats.js";
export { looksLikeSops } from "./detect.js";
export { isComment, isList, isMap, isTime, lookup } from "./tree.js";
export type {
  SopsComment,
  SopsDocument,
  SopsEntry,
  SopsList,
  SopsListItem,
  SopsMap,
  SopsPair,
  SopsScalar,
  SopsTime,
  SopsValue,
} from "./tree.js";
