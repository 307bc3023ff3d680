/**
 * Whether bytes carry SOPS metadata for the given format, without parsing them: a top-level
 * `sops:` key (YAML), a `"sops":` member (JSON, binary), `sops_` lines (dotenv), a `[sops]`
 * section (INI). Looser than Flux's `mac: ENC[` markers on purpose: a file whose MAC was
 * emptied still counts as SOPS, so decryptSops refuses it instead of a caller applying it as
 * plain data. A hint only; decryptSops decides.
 */
import type { SopsFormat } from "./formats.js";

const MARKERS: Readonly<Record<SopsFormat, RegExp>> = {
  yaml: /^sops:/m,
  json: /"sops"\s*:/,
  binary: /"sops"\s*:/,
  dotenv: /^sops_/m,
  ini: /^\s*\[sops\]/m,
};

export function looksLikeSops(content: Uint8Array | string, format: SopsFormat): boolean {
  const text = typeof content === "string" ? content : Buffer.from(content).toString("utf8");
  return MARKERS[format].test(text);
}
