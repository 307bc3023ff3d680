/**
 * The seal modes that take SealedSecrets as input: --recovery-unseal, --validate and
 * --re-encrypt. Validation and re-encryption run offline with --private-key, or through the
 * controller (loaded only then) as kubeseal does.
 */
import type { KeyObject } from "node:crypto";
import { assertCertificateCurrent, parseCertificate } from "../crypto/sealing/certificate.js";
import type { Keyring } from "../crypto/sealing/keyring.js";
import { reencryptSealedSecret } from "../crypto/sealing/reencrypt.js";
import { readSealedSecret, type SealedSecret } from "../crypto/sealing/sealed-secret.js";
import { objectName } from "../crypto/sealing/shapes.js";
import { neighboursOf, unsealSealedSecret } from "../crypto/sealing/unseal.js";
import { ErrorCodes, GuardError } from "../errors.js";
import { realClock } from "../runtime/clock.js";
import { certLocation, readCertText } from "./cert-source.js";
import type { ControllerClient } from "./controller.js";
import { formatDocuments } from "./documents.js";
import { emit, type CliIo } from "./io.js";
import { loadKeyring } from "./key-files.js";
import { kubeconfigFiles } from "./kubeconfig.js";
import type { SealFlags } from "./seal.js";
import { inputDocuments, outputFormat } from "./seal-input.js";

async function sealedSecrets(flags: SealFlags, io: CliIo): Promise<SealedSecret[]> {
  const docs = await inputDocuments(flags, io, ErrorCodes.UNSEAL_INPUT_INVALID);
  return docs.map(({ doc, where }) => readSealedSecret(doc, where));
}

async function recoveryUnseal(flags: SealFlags, io: CliIo): Promise<void> {
  const keyring = await loadKeyring(flags.recoveryPrivateKey, "--recovery-private-key");
  const all = await sealedSecrets(flags, io);
  const secrets = all.map(
    (ss) => unsealSealedSecret(ss, { keyring, otherObjects: neighboursOf(all, ss) }).secret,
  );
  await emit(io, await formatDocuments(secrets, outputFormat(flags)), flags.sealedSecretFile);
}

function controller(flags: SealFlags, io: CliIo): Promise<ControllerClient> {
  return import("./controller.js").then(({ connectController }) =>
    connectController({
      name: flags.controllerName,
      namespace: flags.controllerNamespace,
      kubeconfig: kubeconfigFiles(flags.kubeconfig, io.env),
    }),
  );
}

function validateOffline(all: readonly SealedSecret[], keyring: Keyring, io: CliIo): void {
  const failures: GuardError[] = [];
  for (const ss of all) {
    try {
      const { openedWith } = unsealSealedSecret(ss, {
        keyring,
        otherObjects: neighboursOf(all, ss),
      });
      const keys = [...new Set(openedWith.values())].join(", ");
      io.output.writeErr(
        `ok: SealedSecret ${objectName(ss.metadata)} opens (${openedWith.size} items, key ${keys || "none"})\n`,
      );
    } catch (err: unknown) {
      if (!(err instanceof GuardError) || all.length === 1) throw err;
      io.output.writeErr(`error ${err.code}: ${err.message}\n`);
      failures.push(err);
    }
  }
  if (failures.length > 0) {
    throw new GuardError(
      ErrorCodes.UNSEAL_NOT_VALID,
      `${failures.length} of ${all.length} SealedSecrets do not open`,
    );
  }
}

async function validate(flags: SealFlags, io: CliIo): Promise<void> {
  const all = await sealedSecrets(flags, io);
  if (flags.privateKey.length > 0) {
    validateOffline(all, await loadKeyring(flags.privateKey, "--private-key"), io);
    return;
  }
  const client = await controller(flags, io);
  for (const ss of all) {
    if (!(await client.verify(ss))) {
      throw new GuardError(
        ErrorCodes.UNSEAL_NOT_VALID,
        `unable to decrypt SealedSecret ${objectName(ss.metadata)}: the controller cannot open it ` +
          "(validate offline with --private-key to see why)",
      );
    }
  }
}

/** The key to re-encrypt for: --cert (or its env variables) if given, else the newest key held. */
async function targetKey(flags: SealFlags, io: CliIo, keyring: Keyring): Promise<KeyObject> {
  const { location, source } = certLocation(flags.cert, io.env);
  if (location === undefined) {
    const latest = keyring.latest();
    if (latest === undefined)
      throw new GuardError(ErrorCodes.KEYS_NONE, "--private-key holds no key");
    return latest.publicKey;
  }
  const cert = parseCertificate(await readCertText(location, source), source);
  assertCertificateCurrent(cert, realClock().now(), source);
  return cert.publicKey;
}

async function reencrypt(flags: SealFlags, io: CliIo): Promise<void> {
  const all = await sealedSecrets(flags, io);
  let out: unknown[];
  if (flags.privateKey.length > 0) {
    const keyring = await loadKeyring(flags.privateKey, "--private-key");
    const publicKey = await targetKey(flags, io, keyring);
    out = all.map((ss) =>
      reencryptSealedSecret(ss, publicKey, { keyring, otherObjects: neighboursOf(all, ss) }),
    );
  } else {
    const client = await controller(flags, io);
    out = [];
    for (const ss of all) out.push(await client.rotate(ss));
  }
  // kubeseal: with only -f, the file is re-encrypted in place.
  const target = flags.sealedSecretFile ?? flags.secretFile;
  const format = outputFormat(
    target === undefined ? flags : { ...flags, sealedSecretFile: target },
  );
  await emit(io, await formatDocuments(out, format), target);
}

export async function runSealedSecretMode(flags: SealFlags, io: CliIo): Promise<void> {
  if (flags.recoveryUnseal === true) await recoveryUnseal(flags, io);
  else if (flags.validate === true) await validate(flags, io);
  else await reencrypt(flags, io);
}
