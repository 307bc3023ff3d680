/** The file formats (sops "stores") and how sops picks one from a file name. */
export const SOPS_FORMATS = ["yaml", "json", "dotenv", "ini", "binary"] as const;

export type SopsFormat = (typeof SOPS_FORMATS)[number];

export function isSopsFormat(value: string): value is SopsFormat {
  return (SOPS_FORMATS as readonly string[]).includes(value);
}

/** sops cmd/sops/formats: .yaml/.yml, .json, .env, .ini; anything else is binary. */
export function formatForName(name: string): SopsFormat {
  if (name.endsWith(".yaml") || name.endsWith(".yml")) return "yaml";
  if (name.endsWith(".json")) return "json";
  if (name.endsWith(".env")) return "dotenv";
  if (name.endsWith(".ini")) return "ini";
  return "binary";
}
