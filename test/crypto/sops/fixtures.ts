/**
 * The real sops files of test/fixtures/sops (copied from ../shared/fixtures/sops, see its
 * README): paths, the age identities that open them, and the expected plaintexts.
 */
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAgeIdentities, type AgeIdentity } from "../../../src/crypto/sops/index.js";

export const FIXTURES = fileURLToPath(new URL("../../fixtures/sops/", import.meta.url));

export const KEY_FILES = ["derived-test", "kc-age", "kc-age-global", "kc-age-pq"] as const;

export function fixture(path: string): Buffer {
  return readFileSync(`${FIXTURES}${path}`);
}

export function fixtureText(path: string): string {
  return fixture(path).toString("utf8");
}

/** Identities from the named key files (all of them by default). */
export async function identities(
  names: readonly (typeof KEY_FILES)[number][] = KEY_FILES,
): Promise<AgeIdentity[]> {
  const lists = await Promise.all(
    names.map((name) => parseAgeIdentities(fixtureText(`keys/${name}.agekey`), name)),
  );
  return lists.flat();
}

export interface Expected {
  readonly file: string;
  readonly format: string;
  readonly mac_ok: boolean;
  readonly mac_stored: string;
  readonly mac_computed: string;
  readonly data: unknown;
}

/** Every expected/*.json, keyed by the fixture path it describes. */
export function expectations(): Expected[] {
  return readdirSync(`${FIXTURES}expected`)
    .sort()
    .map((name) => JSON.parse(fixtureText(`expected/${name}`)) as Expected);
}

/** Every sops file under the fixture folders (not keys, not expected). */
export function allFixtureFiles(): string[] {
  return ["kc", "kc-history", "derived-age"].flatMap((dir) =>
    readdirSync(`${FIXTURES}${dir}`)
      .sort()
      .map((file) => `${dir}/${file}`),
  );
}
