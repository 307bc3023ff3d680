/**
 * YAML read as Kubernetes reads it. kubectl, helm and the API server's clients parse YAML with
 * sigs.k8s.io/yaml (go-yaml v2): YAML 1.1, where 0644 is octal (420), and yes, on, y are true.
 * The yaml package's default is YAML 1.2 (0644 is 644, yes is a string), so a Secret volume's
 * `defaultMode: 0444` would be applied as 0o674. go-yaml keeps timestamps and base-60 numbers
 * (12:30) as strings, so those two tags of YAML 1.1 are left out.
 */
import type { DocumentOptions, ParseOptions, SchemaOptions } from "yaml";

type Tags = Exclude<SchemaOptions["customTags"], undefined | null>;

function withoutTimeTags(
  tags: Parameters<Extract<Tags, (...args: never[]) => unknown>>[0],
): typeof tags {
  return tags.filter((t) => {
    if (typeof t !== "object") return true;
    const tag = t as { tag?: unknown; format?: unknown };
    return tag.format !== "TIME" && !String(tag.tag).endsWith(":timestamp");
  });
}

export const KUBE_YAML: ParseOptions & DocumentOptions & SchemaOptions = {
  version: "1.1",
  customTags: withoutTimeTags,
};
