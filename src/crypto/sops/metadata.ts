/**
 * The `sops` metadata, checked and typed (sops's stores/stores.go metadata.ToInternal). Values
 * are read weakly typed, as sops's mapstructure decoding does, because flattened formats
 * (dotenv, INI) store every field as a string.
 */
import { metadataError } from "./format-error.js";
import { formatGoFloat, parseGoBool } from "./go-values.js";

export interface AgeKey {
  readonly type: "age";
  readonly recipient: string;
  readonly enc: string;
}

export interface KmsKey {
  readonly type: "kms";
  readonly arn: string;
  readonly role: string;
  readonly context: Readonly<Record<string, string>>;
  readonly enc: string;
}

/** A key type this library cannot use (PGP, GCP KMS, Azure Key Vault, Vault, HuaweiCloud KMS). */
export interface OtherKey {
  readonly type: "pgp" | "gcp_kms" | "azure_kv" | "hc_vault" | "hckms";
  readonly name: string;
}

export type MasterKey = AgeKey | KmsKey | OtherKey;

export type EncryptionRuleName =
  | "unencrypted_suffix"
  | "encrypted_suffix"
  | "unencrypted_regex"
  | "encrypted_regex"
  | "unencrypted_comment_regex"
  | "encrypted_comment_regex";

export interface EncryptionRule {
  readonly name: EncryptionRuleName;
  readonly value: string;
}

export interface SopsMetadata {
  /** One group, or several whose parts are joined with Shamir's secret sharing. */
  readonly keyGroups: readonly (readonly MasterKey[])[];
  readonly shamirThreshold: number;
  readonly lastModified: string;
  readonly mac: string;
  readonly rule: EncryptionRule;
  readonly macOnlyEncrypted: boolean;
  readonly version: string;
}

const RULES: readonly EncryptionRuleName[] = [
  "unencrypted_suffix",
  "encrypted_suffix",
  "unencrypted_regex",
  "encrypted_regex",
  "unencrypted_comment_regex",
  "encrypted_comment_regex",
];

type Raw = Readonly<Record<string, unknown>>;

function isRecord(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** mapstructure's weak string: numbers and booleans become text, absence is "". */
function str(raw: Raw, field: string): string {
  const value = raw[field];
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return formatGoFloat(value);
  if (typeof value === "boolean") return value ? "1" : "0";
  throw metadataError(`sops.${field} is not a string`);
}

function bool(raw: Raw, field: string): boolean {
  const value = raw[field];
  if (value === undefined || value === null || typeof value === "boolean") return value === true;
  const parsed = parseGoBool(str(raw, field));
  if (parsed === undefined) throw metadataError(`sops.${field} is not a boolean`);
  return parsed;
}

function int(raw: Raw, field: string): number {
  const text = str(raw, field);
  if (text === "") return 0;
  if (!/^[+-]?[0-9]+$/.test(text)) throw metadataError(`sops.${field} is not an integer`);
  return Number(text);
}

function list(raw: Raw, field: string): Raw[] {
  const value = raw[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every(isRecord))
    throw metadataError(`sops.${field} is not a list of mappings`);
  return value;
}

function kmsContext(raw: Raw): Record<string, string> {
  const value = raw.context;
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw metadataError("sops.kms[].context is not a mapping");
  const context: Record<string, string> = {};
  for (const key of Object.keys(value)) {
    // sops drops nil context values before calling KMS.
    if (value[key] !== null && value[key] !== undefined) context[key] = str(value, key);
  }
  return context;
}

function other(type: OtherKey["type"], name: (key: Raw) => string): (key: Raw) => OtherKey {
  return (key) => ({ type, name: name(key) });
}

// sops's internal group order (internalGroupFrom): kms, gcp_kms, hckms, azure_kv, hc_vault, pgp, age.
const KEY_READERS: readonly (readonly [string, (key: Raw) => MasterKey])[] = [
  [
    "kms",
    (k) => ({
      type: "kms",
      arn: str(k, "arn"),
      role: str(k, "role"),
      context: kmsContext(k),
      enc: str(k, "enc"),
    }),
  ],
  ["gcp_kms", other("gcp_kms", (k) => str(k, "resource_id"))],
  ["hckms", other("hckms", (k) => str(k, "key_id"))],
  [
    "azure_kv",
    other("azure_kv", (k) => `${str(k, "vault_url")}/keys/${str(k, "name")}/${str(k, "version")}`),
  ],
  [
    "hc_vault",
    other(
      "hc_vault",
      (k) => `${str(k, "vault_address")}/v1/${str(k, "engine_path")}/keys/${str(k, "key_name")}`,
    ),
  ],
  ["pgp", other("pgp", (k) => str(k, "fp"))],
  ["age", (k) => ({ type: "age", recipient: str(k, "recipient"), enc: str(k, "enc") })],
];

function readGroup(raw: Raw): MasterKey[] {
  return KEY_READERS.flatMap(([field, read]) => list(raw, field).map(read));
}

function keyGroups(raw: Raw): MasterKey[][] {
  const direct = readGroup(raw);
  if (direct.length > 0) return [direct];
  const groups = list(raw, "key_groups").map(readGroup);
  if (groups.length === 0) throw metadataError("no keys found in the sops metadata");
  return groups;
}

function encryptionRule(raw: Raw): EncryptionRule {
  const set = RULES.filter((name) => str(raw, name) !== "");
  if (set.length > 1) throw metadataError(`more than one of ${RULES.join(", ")} is set`);
  const name = set[0] ?? "unencrypted_suffix";
  return { name, value: set[0] === undefined ? "_unencrypted" : str(raw, name) };
}

/** The typed metadata; throws FormatError (METADATA_INVALID) naming the field that is wrong. */
export function parseMetadata(raw: Raw): SopsMetadata {
  return {
    keyGroups: keyGroups(raw),
    shamirThreshold: int(raw, "shamir_threshold"),
    lastModified: str(raw, "lastmodified"),
    mac: str(raw, "mac"),
    rule: encryptionRule(raw),
    macOnlyEncrypted: bool(raw, "mac_only_encrypted"),
    version: str(raw, "version"),
  };
}

/** Post-quantum recipients run to 2,000 characters; messages keep both ends. */
function shortened(recipient: string): string {
  return recipient.length <= 100 ? recipient : `${recipient.slice(0, 40)}…${recipient.slice(-16)}`;
}

/** How a key is named in messages and in `sops check`: "age:age1…", "kms:arn:aws:…". */
export function describeKey(key: MasterKey): string {
  if (key.type === "age") return `age:${shortened(key.recipient)}`;
  if (key.type === "kms") return `kms:${key.arn}${key.role === "" ? "" : `+${key.role}`}`;
  return `${key.type}:${key.name}`;
}
