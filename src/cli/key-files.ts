/**
 * Private keys from the files a person names (--private-key, --recovery-private-key, keys
 * list/fingerprint): PEM private keys (a certificate in the same file is used too), or a
 * key backup as kubeseal takes it: a key Secret, several, or a v1 List of them, YAML or JSON.
 */
import { keysFromDocuments } from "../crypto/sealing/key-secret.js";
import { Keyring, type SealingKey } from "../crypto/sealing/keyring.js";
import { keysFromPem } from "../crypto/sealing/keys.js";
import { ErrorCodes, GuardError } from "../errors.js";
import { parseDocuments } from "./documents.js";
import { readInputFile } from "./io.js";

/** "a.pem,b.pem" given twice -> ["a.pem", "b.pem", ...], as kubeseal's string slices. */
export function splitFileList(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PEM_PRIVATE_KEY = /-----BEGIN (RSA )?PRIVATE KEY-----/;

export async function keysFromFile(file: string, flag: string): Promise<SealingKey[]> {
  const text = (await readInputFile(file, flag, ErrorCodes.KEYS_INVALID)).toString("utf8");
  if (PEM_PRIVATE_KEY.test(text)) return keysFromPem(text, file);
  if (PEM_CERTIFICATE.test(text) || text.trim() === "") {
    throw new GuardError(ErrorCodes.KEYS_INVALID, `${flag} ${file}: holds no private key`);
  }
  return keysFromDocuments(await parseDocuments(text, file, ErrorCodes.KEYS_INVALID), file);
}

/** A keyring with every key of every file; refuses an empty list. */
export async function loadKeyring(values: readonly string[], flag: string): Promise<Keyring> {
  const files = splitFileList(values);
  if (files.length === 0) {
    throw new GuardError(ErrorCodes.KEYS_NONE, `${flag} names no file`);
  }
  const ring = new Keyring();
  for (const file of files) for (const key of await keysFromFile(file, flag)) ring.add(key);
  return ring;
}
