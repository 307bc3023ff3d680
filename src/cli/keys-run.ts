/** What the `keys` subcommands do; loaded only when one runs. */
import { X509Certificate } from "node:crypto";
import { createSealingCertificate } from "../crypto/sealing/certificate-build.js";
import {
  ACTIVE_KEY,
  BITNAMI_KEY_SECRET_LABEL,
  KEY_SECRET_LABEL,
  keySecret,
  keySecretName,
  type KeySecret,
} from "../crypto/sealing/key-secret.js";
import type { Keyring, SealingKey } from "../crypto/sealing/keyring.js";
import { DEFAULT_KEY_VALIDITY_MS } from "../crypto/sealing/keygen.js";
import { publicKeyFingerprint } from "../crypto/sealing/fingerprint.js";
import { ErrorCodes, GuardError } from "../errors.js";
import type { KubeObject } from "../kube/objects.js";
import { realClock } from "../runtime/clock.js";
import { DEFAULT_CONTROLLER_NAMESPACE } from "./controller.js";
import { formatDocuments } from "./documents.js";
import { emit, readInputFile, type CliIo } from "./io.js";
import { keysFromFile, loadKeyring } from "./key-files.js";
import type { KeysBackupFlags, KeysImportFlags } from "./keys.js";
import { kubeconfigFiles } from "./kubeconfig.js";

function day(ms: number | undefined): string {
  return ms === undefined ? "-" : new Date(ms).toISOString().slice(0, 10);
}

function validity(key: SealingKey): { notBefore?: number; notAfter?: number } {
  if (key.certificatePem === undefined) return {};
  const cert = new X509Certificate(key.certificatePem);
  return { notBefore: cert.validFromDate.getTime(), notAfter: cert.validToDate.getTime() };
}

export async function listKeys(files: readonly string[], io: CliIo): Promise<void> {
  const ring = await loadKeyring(files, "keys list");
  const newest = ring.latest();
  const rows = ring.keys().map((key) => {
    const { notBefore, notAfter } = validity(key);
    const mark = key === newest ? "newest (seals)" : "";
    return [
      key.fingerprint,
      `RSA-${key.blockBytes * 8}`,
      day(notBefore),
      day(notAfter),
      key.source ?? "",
      mark,
    ];
  });
  const header = ["FINGERPRINT", "SIZE", "NOT-BEFORE", "NOT-AFTER", "SOURCE", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()}\n`;
  io.output.writeOut([header, ...rows].map(line).join(""));
}

const PEM_CERTIFICATES = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const PEM_PRIVATE_KEY = /-----BEGIN (RSA )?PRIVATE KEY-----/;

async function fingerprintsOf(file: string): Promise<string[]> {
  const text = (await readInputFile(file, "keys fingerprint", ErrorCodes.KEYS_INVALID)).toString(
    "utf8",
  );
  const certs = [...text.matchAll(PEM_CERTIFICATES)].map((m) => {
    return `${publicKeyFingerprint(new X509Certificate(m[0]).publicKey)}  ${file} (certificate)`;
  });
  const hasKeys = PEM_PRIVATE_KEY.test(text) || certs.length === 0;
  const keys = hasKeys ? await keysFromFile(file, "keys fingerprint") : [];
  return [...keys.map((k) => `${k.fingerprint}  ${file} (private key)`), ...certs];
}

export async function fingerprints(files: readonly string[], io: CliIo): Promise<void> {
  const lines: string[] = [];
  for (const file of files) lines.push(...(await fingerprintsOf(file)));
  io.output.writeOut(lines.map((l) => `${l}\n`).join(""));
}

/** A key Secret as it should be restored: no server-owned fields. */
function restorable(secret: KubeObject): unknown {
  const { name, namespace, labels, annotations } = secret.metadata;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace,
      ...(labels === undefined ? {} : { labels }),
      ...(annotations === undefined ? {} : { annotations }),
    },
    type: secret["type"],
    data: secret["data"],
  };
}

export async function backupKeys(flags: KeysBackupFlags, io: CliIo): Promise<void> {
  const label = flags.bitnami === true ? BITNAMI_KEY_SECRET_LABEL : KEY_SECRET_LABEL;
  const namespace =
    flags.namespace ?? (flags.bitnami === true ? "kube-system" : DEFAULT_CONTROLLER_NAMESPACE);
  const { createKubeClient } = await import("../kube/client.js");
  const kubeconfig = kubeconfigFiles(flags.kubeconfig, io.env);
  const kube = createKubeClient(kubeconfig === undefined ? {} : { kubeconfig });
  const { items } = await kube.list<KubeObject>(
    { apiVersion: "v1", kind: "Secret" },
    { namespace, labelSelector: `${label}=${ACTIVE_KEY}` },
  );
  if (items.length === 0) {
    throw new GuardError(
      ErrorCodes.KEYS_NONE,
      `no Secrets labelled ${label}=${ACTIVE_KEY} in namespace ${namespace}`,
    );
  }
  const list = { apiVersion: "v1", kind: "List", items: items.map(restorable) };
  await emit(io, await formatDocuments([list], flags.format), flags.sealedSecretFile);
  io.output.writeErr(
    `${items.length} key(s) backed up; the output holds private keys: keep it out of Git\n`,
  );
}

function toKeySecret(key: SealingKey, namespace: string, now: number): KeySecret {
  const certificatePem =
    key.certificatePem ??
    createSealingCertificate(key.privateKey, {
      notBefore: now,
      validForMs: DEFAULT_KEY_VALIDITY_MS,
    });
  const privateKeyPem = key.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  return keySecret(
    { privateKeyPem, certificatePem },
    { namespace, name: keySecretName(key.fingerprint) },
  );
}

export async function importKeys(
  files: readonly string[],
  flags: KeysImportFlags,
  io: CliIo,
): Promise<void> {
  const ring: Keyring = await loadKeyring(files, "keys import");
  const now = realClock().now();
  const secrets = ring.keys().map((key) => toKeySecret(key, flags.namespace, now));
  if (flags.apply !== true) {
    io.output.writeOut(
      await formatDocuments([{ apiVersion: "v1", kind: "List", items: secrets }], flags.format),
    );
    return;
  }
  const { createKubeClient } = await import("../kube/client.js");
  const kubeconfig = kubeconfigFiles(flags.kubeconfig, io.env);
  const kube = createKubeClient(kubeconfig === undefined ? {} : { kubeconfig });
  for (const secret of secrets) {
    await kube.apply(secret);
    io.output.writeErr(`applied Secret ${flags.namespace}/${secret.metadata.name}\n`);
  }
}
