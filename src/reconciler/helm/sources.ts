/**
 * The values of one render, from their sources in order: spec.helm.valueFiles (from the
 * checkout; a SOPS file is decrypted, MAC verified), spec.helm.values, then
 * spec.helm.valuesFrom. Errors name the source and never quote what it holds: a values file or
 * Secret may carry credentials, and a YAML parser's message shows the offending line.
 */
import { readFile, stat } from "node:fs/promises";
import { relative } from "node:path";
import { parse } from "yaml";
import { ErrorCodes, GuardError } from "../../errors.js";
import { isSopsFile, type SopsFiles } from "../render/sops.js";
import { resolveInside } from "../render/walk.js";
import { KUBE_YAML } from "../render/kube-yaml.js";
import type { HelmSpec, ValuesSource } from "./spec.js";
import { asValuesMap, mergeValues } from "./values.js";

type Values = Record<string, unknown>;

const MAX_VALUES_BYTES = 4 * 1024 * 1024;

export interface ValuesInput {
  /** The checkout's root. */
  readonly root: string;
  readonly spec: HelmSpec;
  readonly sops?: SopsFiles;
  /** The entry's text; undefined when the object or its key does not exist. */
  readonly readSource: (source: ValuesSource) => Promise<string | undefined>;
}

function invalid(where: string, why: string): GuardError {
  return new GuardError(ErrorCodes.RENDER_HELM_VALUES_INVALID, `${where}: ${why}`);
}

/** Parses YAML values, saying where it fails by line only. */
export function parseValues(text: string, where: string): Values {
  let parsed: unknown;
  try {
    // As helm reads a values file (sigs.k8s.io/yaml): `enabled: yes` is true, 0644 is octal.
    parsed = parse(text, { ...KUBE_YAML, maxAliasCount: 100 });
  } catch (err: unknown) {
    const line = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    const code = (err as { code?: string }).code ?? "YAML_ERROR";
    throw invalid(
      where,
      `not valid YAML${line === undefined ? "" : ` at line ${String(line)}`} (${code})`,
    );
  }
  const map = asValuesMap(parsed);
  if (map === undefined) throw invalid(where, "values must be a map of keys");
  return map;
}

async function valueFile(input: ValuesInput, path: string): Promise<Values> {
  const full = await resolveInside(input.root, path);
  const file = relative(input.root, full) || path;
  const info = await stat(full);
  if (!info.isFile()) throw invalid(`spec.helm.valueFiles ${file}`, "is not a file");
  if (info.size > MAX_VALUES_BYTES) {
    throw invalid(
      `spec.helm.valueFiles ${file}`,
      `is larger than ${String(MAX_VALUES_BYTES)} bytes`,
    );
  }
  const content = await readFile(full);
  if (!isSopsFile(file, content)) return parseValues(content.toString("utf8"), file);
  if (input.sops === undefined) {
    throw new GuardError(
      ErrorCodes.RENDER_SOPS_UNAVAILABLE,
      `${file} is SOPS-encrypted and spec.decryption.secretRef is not set`,
    );
  }
  const plain = await input.sops.decrypt(file, content);
  return parseValues(typeof plain === "string" ? plain : Buffer.from(plain).toString("utf8"), file);
}

async function fromObject(input: ValuesInput, source: ValuesSource): Promise<Values> {
  const where = `spec.helm.valuesFrom ${source.kind} ${source.name} key ${source.key}`;
  const text = await input.readSource(source);
  if (text !== undefined) return parseValues(text, where);
  if (source.optional) return {};
  throw new GuardError(ErrorCodes.RENDER_HELM_VALUES_MISSING, `${where} does not exist`, {
    details: { kind: source.kind, name: source.name, key: source.key },
  });
}

/** Every source's values merged in order (later wins); the chart's defaults are below them. */
export async function collectValues(input: ValuesInput): Promise<Values> {
  const layers: Values[] = [];
  for (const path of input.spec.valueFiles) layers.push(await valueFile(input, path));
  if (input.spec.values !== undefined) layers.push({ ...input.spec.values });
  for (const source of input.spec.valuesFrom) layers.push(await fromObject(input, source));
  return mergeValues(layers);
}
