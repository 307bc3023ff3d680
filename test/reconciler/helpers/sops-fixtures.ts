// Real files written by the sops tool (test/fixtures/sops, see its README) and their age keys.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../fixtures/sops/", import.meta.url));

export function fixture(path: string): string {
  return readFileSync(`${ROOT}${path}`, "utf8");
}

/** The age key that opens the kustomize-controller fixtures (kc/, kc-history/). */
export function kcAgeKey(): string {
  return fixture("keys/kc-age.agekey");
}

/** A Secret's data map holding the key as Flux expects it: an entry ending in .agekey. */
export function ageKeySecretData(): Record<string, string> {
  return { "age.agekey": Buffer.from(kcAgeKey()).toString("base64") };
}
