/**
 * What `seal` does, mode by mode, in kubeseal's order: recovery, validation, re-encryption,
 * then sealing with a certificate (print it, merge into a file, one raw value, or Secrets).
 */
import { assertCertificateCurrent, parseCertificate } from "../crypto/sealing/certificate.js";
import { readSecret, sealRawValue, sealSecret, type SealOptions } from "../crypto/sealing/seal.js";
import { ErrorCodes, GuardError } from "../errors.js";
import { realClock } from "../runtime/clock.js";
import { certLocation, readCertText } from "./cert-source.js";
import { formatDocuments } from "./documents.js";
import { emit, readInputFile, type CliIo } from "./io.js";
import { contextNamespace, kubeconfigFiles } from "./kubeconfig.js";
import type { SealFlags } from "./seal.js";
import { inputDocuments, outputFormat } from "./seal-input.js";

function checkFlags(flags: SealFlags): void {
  if (flags.fromFile.length > 0 && flags.raw !== true) {
    throw new GuardError(ErrorCodes.SEAL_INPUT_INVALID, "--from-file requires --raw");
  }
  if (flags.recoveryUnseal === true && flags.recoveryPrivateKey.length === 0) {
    throw new GuardError(ErrorCodes.KEYS_NONE, "--recovery-unseal needs --recovery-private-key");
  }
  if (flags.privateKey.length > 0 && flags.validate !== true && flags.reEncrypt !== true) {
    throw new GuardError(
      ErrorCodes.SEAL_INPUT_INVALID,
      "--private-key is for --validate and --re-encrypt",
    );
  }
}

async function certificateText(
  flags: SealFlags,
  io: CliIo,
): Promise<{ text: string; source: string }> {
  const { location, source } = certLocation(flags.cert, io.env);
  if (location !== undefined) return { text: await readCertText(location, source), source };
  const { connectController } = await import("./controller.js");
  const controller = await connectController({
    name: flags.controllerName,
    namespace: flags.controllerNamespace,
    kubeconfig: kubeconfigFiles(flags.kubeconfig, io.env),
  });
  const where = `the controller ${flags.controllerNamespace}/${flags.controllerName}`;
  return { text: await controller.fetchCert(), source: where };
}

async function sealDocuments(flags: SealFlags, io: CliIo, options: SealOptions): Promise<void> {
  const secrets = (await inputDocuments(flags, io)).map(({ doc, where }) => readSecret(doc, where));
  let defaultNamespace: string | undefined;
  const sealed = [];
  for (const secret of secrets) {
    // Like kubectl, a missing namespace comes from the kubeconfig context; read it only then.
    if (secret.metadata.namespace === undefined && options.namespaceFlag === undefined) {
      defaultNamespace ??= await contextNamespace(kubeconfigFiles(flags.kubeconfig, io.env));
    }
    sealed.push(
      sealSecret(secret, {
        ...options,
        ...(defaultNamespace === undefined ? {} : { defaultNamespace }),
      }),
    );
  }
  await emit(io, await formatDocuments(sealed, outputFormat(flags)), flags.sealedSecretFile);
}

async function rawValue(flags: SealFlags, io: CliIo): Promise<Buffer> {
  const [fromFile, extra] = flags.fromFile;
  if (extra !== undefined) {
    throw new GuardError(
      ErrorCodes.SEAL_INPUT_INVALID,
      "--raw seals one value: give only one --from-file",
    );
  }
  if (fromFile === undefined) return io.readStdin();
  // kubectl's syntax: an optional "key=" before the file name; the key is not used here.
  const file = fromFile.includes("=") ? fromFile.slice(fromFile.indexOf("=") + 1) : fromFile;
  return readInputFile(file, "--from-file");
}

async function sealRaw(flags: SealFlags, io: CliIo, options: SealOptions): Promise<void> {
  const scope = flags.scope ?? "strict";
  const namespace =
    scope === "cluster-wide"
      ? ""
      : (flags.namespace ?? (await contextNamespace(kubeconfigFiles(flags.kubeconfig, io.env))));
  const name = scope === "strict" ? (flags.name ?? "") : "";
  if (scope === "strict" && name === "") {
    throw new GuardError(
      ErrorCodes.SEAL_INPUT_INVALID,
      "--raw in strict scope needs --name (or --scope namespace-wide / cluster-wide)",
    );
  }
  const value = sealRawValue(options.publicKey, await rawValue(flags, io), scope, {
    namespace,
    name,
  });
  await emit(io, value, flags.sealedSecretFile);
}

export async function runSeal(flags: SealFlags, io: CliIo): Promise<void> {
  checkFlags(flags);
  if (flags.recoveryUnseal === true || flags.validate === true || flags.reEncrypt === true) {
    const { runSealedSecretMode } = await import("./seal-modes.js");
    await runSealedSecretMode(flags, io);
    return;
  }
  const { text, source } = await certificateText(flags, io);
  if (flags.fetchCert === true) {
    await emit(io, text, flags.sealedSecretFile);
    return;
  }
  const cert = parseCertificate(text, source);
  assertCertificateCurrent(cert, realClock().now(), source);
  const options: SealOptions = {
    publicKey: cert.publicKey,
    apiVersion: flags.apiversion,
    allowEmptyData: flags.allowEmptyData === true,
    ...(flags.scope === undefined ? {} : { scope: flags.scope }),
    ...(flags.name === undefined ? {} : { name: flags.name }),
    ...(flags.namespace === undefined ? {} : { namespaceFlag: flags.namespace }),
  };
  if (flags.mergeInto !== undefined) {
    const { mergeInto } = await import("./merge-into.js");
    await mergeInto(flags, io, options);
  } else if (flags.raw === true) await sealRaw(flags, io, options);
  else await sealDocuments(flags, io, options);
}
