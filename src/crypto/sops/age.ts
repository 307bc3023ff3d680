/**
 * age identities and the age-wrapped data key. Each `sops.age[]` entry is an armored age file
 * whose payload is the data key (or this group's Shamir share). X25519 (`AGE-SECRET-KEY-1…`)
 * and post-quantum hybrid (`AGE-SECRET-KEY-PQ-1…`) identities are supported; SSH and plugin
 * identities are not.
 */
import { armor, Decrypter, identityToRecipient } from "age-encryption";
import { GuardError, ErrorCodes } from "../../errors.js";

export interface AgeIdentity {
  /** The secret identity; never printed. */
  readonly identity: string;
  /** Its public recipient (`age1…` or `age1pq1…`), which is what sops files name. */
  readonly recipient: string;
}

const IDENTITY = /^AGE-SECRET-KEY-(?:PQ-)?1[0-9A-Z]+$/;

/**
 * The identities in an age key file or in SOPS_AGE_KEY: one per line, `#` comments and blank
 * lines ignored. source names where the text came from, for errors; a key is never quoted.
 */
export async function parseAgeIdentities(text: string, source: string): Promise<AgeIdentity[]> {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const identities: AgeIdentity[] = [];
  for (const [index, identity] of lines.entries()) {
    identities.push({ identity, recipient: await recipientOf(identity, source, index + 1) });
  }
  return identities;
}

async function recipientOf(identity: string, source: string, position: number): Promise<string> {
  const invalid = (): GuardError =>
    new GuardError(
      ErrorCodes.SOPS_AGE_KEY_INVALID,
      `${source}: key ${position} is not an age identity (AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…)`,
      { details: { source, position } },
    );
  if (!IDENTITY.test(identity)) throw invalid();
  try {
    return await identityToRecipient(identity);
  } catch {
    throw invalid();
  }
}

/**
 * Opens one age stanza with the identities. Throws an Error whose message says why, without
 * secrets: no identity for the recipient, or the identity failed on it.
 */
export async function openAgeKey(
  enc: string,
  recipient: string,
  identities: readonly AgeIdentity[],
): Promise<Uint8Array> {
  if (identities.length === 0) throw new Error("no age identity was given");
  let file: Uint8Array;
  try {
    file = armor.decode(enc);
  } catch {
    throw new Error("its enc field is not an armored age file");
  }
  const decrypter = new Decrypter();
  for (const { identity } of identities) decrypter.addIdentity(identity);
  try {
    return await decrypter.decrypt(file, "uint8array");
  } catch (err: unknown) {
    const ours = identities.some((id) => id.recipient === recipient);
    const why = err instanceof Error ? err.message : "unknown error";
    throw new Error(
      ours
        ? `the matching identity could not open it (${why})`
        : "no local identity for this recipient",
      { cause: err },
    );
  }
}
