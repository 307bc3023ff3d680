// Manifests and values read as kubectl and helm read them (sigs.k8s.io/yaml, YAML 1.1), not as
// YAML 1.2: found with a real chart (kyverno's `defaultMode: 0444`, which 1.2 reads as 444).
import { describe, expect, it } from "vitest";
import { parseValues } from "../../src/reconciler/helm/sources.js";
import { parseManifests } from "../../src/reconciler/render/manifests.js";

const DOC = [
  "apiVersion: v1",
  "kind: Pod",
  "metadata: { name: p, annotations: { at: 2001-12-14, clock: 12:30 } }",
  "spec:",
  "  volumes: [{ name: s, secret: { secretName: s, defaultMode: 0444 } }]",
  "  hostNetwork: yes",
  "  enableServiceLinks: off",
  "  priority: 0x10",
  "",
].join("\n");

describe("YAML as Kubernetes reads it", () => {
  it("reads 0444 as octal and yes/off as booleans; keeps timestamps and 12:30 as strings", () => {
    const [item] = parseManifests(DOC, "pod.yaml");
    const spec = item?.object["spec"] as Record<string, unknown>;
    expect(spec["volumes"]).toEqual([
      { name: "s", secret: { secretName: "s", defaultMode: 0o444 } },
    ]);
    expect(spec["hostNetwork"]).toBe(true);
    expect(spec["enableServiceLinks"]).toBe(false);
    expect(spec["priority"]).toBe(16);
    expect(item?.object.metadata.annotations).toEqual({ at: "2001-12-14", clock: "12:30" });
  });

  it("reads a values file the same way helm does", () => {
    expect(parseValues("mode: 0644\nenabled: yes\nname: '0644'\n", "values.yaml")).toEqual({
      mode: 0o644,
      enabled: true,
      name: "0644",
    });
  });
});
