/** What `gitops-guard unseal` does; loaded only when it runs. */
import { readSealedSecret } from "../crypto/sealing/sealed-secret.js";
import { neighboursOf, unsealSealedSecret, type UnsealedSecret } from "../crypto/sealing/unseal.js";
import { ErrorCodes } from "../errors.js";
import { formatDocuments } from "./documents.js";
import { emit, type CliIo } from "./io.js";
import { loadKeyring } from "./key-files.js";
import { inputDocuments } from "./seal-input.js";
import type { UnsealFlags } from "./unseal.js";

/** The Secret with each value replaced by its size and where it came from. */
function hideValues(unsealed: UnsealedSecret): unknown {
  const data = Object.fromEntries(
    [...unsealed.values].map(([key, value]) => {
      const fingerprint = unsealed.openedWith.get(key);
      const from = fingerprint === undefined ? "spec.template.data" : `key ${fingerprint}`;
      return [key, `(hidden: ${value.length} bytes, ${from})`];
    }),
  );
  return { ...unsealed.secret, data };
}

export async function runUnseal(flags: UnsealFlags, io: CliIo): Promise<void> {
  const keyring = await loadKeyring(flags.privateKey, "--private-key");
  const docs = await inputDocuments(flags, io, ErrorCodes.UNSEAL_INPUT_INVALID);
  const all = docs.map(({ doc, where }) => readSealedSecret(doc, where));
  const out = all.map((ss) => {
    const unsealed = unsealSealedSecret(ss, { keyring, otherObjects: neighboursOf(all, ss) });
    return flags.showValues === true ? unsealed.secret : hideValues(unsealed);
  });
  await emit(io, await formatDocuments(out, flags.format), flags.sealedSecretFile);
}
