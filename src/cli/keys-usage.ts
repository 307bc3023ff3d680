/**
 * `gitops-guard keys usage`: which key each SealedSecret value in a checkout is sealed for,
 * so a team can see what still depends on an old key before retiring it. The wire format
 * carries no key id, so each value costs one RSA-OAEP attempt (the keyring tries first the
 * key that opened the object's previous value, so usually exactly one); the AES-GCM part is
 * checked too, so a value counted for a key is one `keys reencrypt` can move. Plaintexts
 * are dropped at once and never printed.
 */
import type { Keyring, SealingKey } from "../crypto/sealing/keyring.js";
import type { SealedSecret } from "../crypto/sealing/sealed-secret.js";
import { objectName } from "../crypto/sealing/shapes.js";
import { sealedItemKeys } from "../crypto/sealing/unseal.js";
import { GuardError } from "../errors.js";
import type { CliIo } from "./io.js";
import { loadKeyring } from "./key-files.js";
import {
  placesOf,
  readManifests,
  type ManifestFile,
  type SealedDocument,
} from "./keys-manifests.js";
import type { KeysUsageFlags } from "./keys.js";

interface Dependent {
  readonly where: string;
  readonly file: string;
  readonly document: number;
  readonly apiVersion: string;
  readonly namespace?: string;
  readonly name: string;
  /** The names of the values sealed for this key (never the values). */
  readonly values: readonly string[];
}

interface Unopened {
  readonly where: string;
  readonly file: string;
  readonly document: number;
  readonly object?: string;
  readonly value?: string;
  readonly code: string;
  readonly reason: string;
}

interface Usage {
  readonly keys: ReadonlyMap<string, Dependent[]>;
  readonly unopened: readonly Unopened[];
  readonly sealedSecrets: number;
}

function unopened(doc: SealedDocument, err: GuardError, object?: string): Unopened {
  return {
    where: doc.where,
    file: doc.file,
    document: doc.document,
    ...(object === undefined ? {} : { object }),
    code: err.code,
    reason: err.message,
  };
}

function dependents(
  doc: SealedDocument,
  ss: SealedSecret,
  openedWith: ReadonlyMap<string, string>,
) {
  const byKey = new Map<string, string[]>();
  for (const [value, fingerprint] of openedWith) {
    byKey.set(fingerprint, [...(byKey.get(fingerprint) ?? []), value].sort());
  }
  const { namespace, name } = ss.metadata;
  const base = {
    where: doc.where,
    file: doc.file,
    document: doc.document,
    apiVersion: ss.apiVersion,
  };
  return [...byKey].map(([fingerprint, values]): [string, Dependent] => [
    fingerprint,
    { ...base, ...(namespace === undefined ? {} : { namespace }), name, values },
  ]);
}

function usageOf(files: readonly ManifestFile[], keyring: Keyring): Usage {
  const keys = new Map(keyring.keys().map((k): [string, Dependent[]] => [k.fingerprint, []]));
  const failed: Unopened[] = [];
  const otherObjects = placesOf(files);
  let sealedSecrets = 0;
  for (const doc of files.flatMap((f) => f.documents)) {
    sealedSecrets++;
    const ss = doc.sealed;
    if (ss instanceof GuardError) {
      failed.push(unopened(doc, ss));
      continue;
    }
    const object = objectName(ss.metadata);
    try {
      const items = sealedItemKeys(ss, { keyring, otherObjects });
      for (const [fp, dependent] of dependents(doc, ss, items.openedWith))
        keys.get(fp)?.push(dependent);
      for (const f of items.failures) {
        failed.push({ ...unopened(doc, new GuardError(f.code, f.message), object), value: f.key });
      }
    } catch (err: unknown) {
      if (!(err instanceof GuardError)) throw err;
      failed.push(unopened(doc, err, object));
    }
  }
  return { keys, unopened: failed, sealedSecrets };
}

function created(key: SealingKey): string | undefined {
  return key.certificatePem === undefined ? undefined : new Date(key.since).toISOString();
}

function valueCount(list: readonly Dependent[]): number {
  return list.reduce((n, d) => n + d.values.length, 0);
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_c, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  const line = (cells: readonly string[]): string =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd()}\n`;
  return rows.map(line).join("");
}

function describe(d: Dependent): string {
  const object = d.namespace === undefined ? d.name : `${d.namespace}/${d.name}`;
  const values = d.values.map((v) => JSON.stringify(v)).join(", ");
  return `  ${d.where}  SealedSecret ${object}: ${d.values.length === 1 ? "value" : "values"} ${values}\n`;
}

function olderKeysText(ring: Keyring, usage: Usage): string {
  const newest = ring.latest();
  const sections = ring
    .keys()
    .filter((key) => key !== newest && (usage.keys.get(key.fingerprint) ?? []).length > 0)
    .map((key) => {
      const list = usage.keys.get(key.fingerprint) ?? [];
      const day = created(key)?.slice(0, 10) ?? "date unknown";
      return `\nStill sealed for the older key ${key.fingerprint} (${day}):\n${list.map(describe).join("")}`;
    });
  return sections.length === 0 ? "\nNothing is sealed for an older key.\n" : sections.join("");
}

function unopenedText(usage: Usage): string {
  if (usage.unopened.length === 0) return "";
  const lines = usage.unopened.map((u) => {
    if (u.object === undefined) return `  ${u.where}: ${u.reason} (${u.code})\n`;
    const value = u.value === undefined ? "" : `value ${JSON.stringify(u.value)} `;
    return `  ${u.where}  SealedSecret ${u.object}: ${value}${u.reason} (${u.code})\n`;
  });
  return `\nValues no key opens (${usage.unopened.length}):\n${lines.join("")}`;
}

function usageText(ring: Keyring, usage: Usage, scanned: number): string {
  const newest = ring.latest();
  const rows = ring.keys().map((key) => {
    const list = usage.keys.get(key.fingerprint) ?? [];
    const day = created(key)?.slice(0, 10) ?? "-";
    return [
      key.fingerprint,
      day,
      key === newest ? "yes" : "no",
      `${list.length}`,
      `${valueCount(list)}`,
    ];
  });
  const header = ["FINGERPRINT", "CREATED", "NEWEST", "SEALEDSECRETS", "VALUES"];
  const summary = `\n${scanned} manifest files scanned, ${usage.sealedSecrets} SealedSecrets.\n`;
  return table([header, ...rows]) + olderKeysText(ring, usage) + unopenedText(usage) + summary;
}

function usageJson(ring: Keyring, usage: Usage, scanned: number): string {
  const newest = ring.latest();
  const keys = ring.keys().map((key) => {
    const list = usage.keys.get(key.fingerprint) ?? [];
    return {
      fingerprint: key.fingerprint,
      created: created(key) ?? null,
      newest: key === newest,
      sealedSecrets: list.length,
      values: valueCount(list),
      dependents: list,
    };
  });
  const report = {
    keys,
    unopened: usage.unopened,
    sealedSecrets: usage.sealedSecrets,
    files: scanned,
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

export async function keysUsage(
  paths: readonly string[],
  flags: KeysUsageFlags,
  io: CliIo,
): Promise<void> {
  const keyring = await loadKeyring(flags.privateKey, "--private-key");
  const manifests = await readManifests(paths);
  for (const skipped of manifests.skipped) io.output.writeErr(`skipped ${skipped.message}\n`);
  const usage = usageOf(manifests.files, keyring);
  io.output.writeOut(
    flags.format === "json"
      ? usageJson(keyring, usage, manifests.scanned)
      : usageText(keyring, usage, manifests.scanned),
  );
}
