/** The chart's CRDs are crds/, byte for byte: crds/ is the source of truth (DESIGN.md). */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHART_DIR, REPO_ROOT } from "./helm.js";

const SOURCE = join(REPO_ROOT, "crds");
const COPY = join(CHART_DIR, "crds");

describe("charts/gitops-guard/crds", () => {
  it("holds the same files as crds/", () => {
    expect(readdirSync(COPY).sort()).toEqual(readdirSync(SOURCE).sort());
  });

  for (const file of readdirSync(SOURCE)) {
    it(`${file} is identical (cp crds/*.yaml charts/gitops-guard/crds/ after a change)`, () => {
      expect(readFileSync(join(COPY, file)).equals(readFileSync(join(SOURCE, file)))).toBe(true);
    });
  }
});
