/**
 * What one object's sync would change, as a unified diff of YAML: the live object against the
 * API server's dry-run of the apply (so defaults and other managers' fields are as the server
 * would keep them, not noise). Pure. Fields the server owns (managedFields, resourceVersion,
 * status...) are left out, and a Secret's values are never shown: each becomes "***", marked
 * (before) and (after) where it changes, as kubectl diff does.
 */
import { createTwoFilesPatch } from "diff";
import { stringify } from "yaml";
import {
  LAST_APPLIED_ANNOTATION,
  SERVER_METADATA_FIELDS,
  type KubeObject,
} from "../../kube/objects.js";

export type ChangeAction = "create" | "update" | "unchanged";

export interface ObjectChange {
  /** Kind/namespace/name, or Kind/name for cluster-scoped objects. */
  readonly id: string;
  readonly action: ChangeAction;
  /** A unified diff; empty when unchanged. */
  readonly patch: string;
}

type Json = Record<string, unknown>;

export function objectId(obj: KubeObject): string {
  const { namespace, name = "" } = obj.metadata;
  return namespace === undefined || namespace === ""
    ? `${obj.kind}/${name}`
    : `${obj.kind}/${namespace}/${name}`;
}

function comparable(obj: KubeObject): Json {
  const { status: _status, ...rest } = obj as Json;
  const metadata: Json = { ...obj.metadata };
  for (const field of SERVER_METADATA_FIELDS) metadata[field] = undefined;
  const annotations = Object.entries(obj.metadata.annotations ?? {}).filter(
    ([key]) => obj.kind !== "Secret" || key !== LAST_APPLIED_ANNOTATION,
  );
  metadata["annotations"] = annotations.length > 0 ? Object.fromEntries(annotations) : undefined;
  return JSON.parse(JSON.stringify({ ...rest, metadata })) as Json;
}

function masked(values: unknown, other: unknown, mark: string): Record<string, string> {
  const mine = (values ?? {}) as Record<string, string>;
  const theirs = (other ?? {}) as Record<string, string>;
  return Object.fromEntries(
    Object.keys(mine).map((k) => [
      k,
      k in theirs && theirs[k] !== mine[k] ? `*** (${mark})` : "***",
    ]),
  );
}

/** Both sides with every Secret value replaced, changed ones marked. */
function maskSecrets(live: Json | undefined, next: Json): [Json | undefined, Json] {
  if (next["kind"] !== "Secret") return [live, next];
  const maskSide = (side: Json, other: Json | undefined, mark: string): Json => ({
    ...side,
    ...(side["data"] === undefined ? {} : { data: masked(side["data"], other?.["data"], mark) }),
    ...(side["stringData"] === undefined
      ? {}
      : { stringData: masked(side["stringData"], other?.["stringData"], mark) }),
  });
  return [
    live === undefined ? undefined : maskSide(live, next, "before"),
    maskSide(next, live, "after"),
  ];
}

function yamlOf(doc: Json | undefined): string {
  return doc === undefined ? "" : stringify(doc, { sortMapEntries: true });
}

/** live: the object now (undefined: absent). next: the dry-run result, or Git's manifest. */
export function objectChange(live: KubeObject | undefined, next: KubeObject): ObjectChange {
  const id = objectId(next);
  const [before, after] = maskSecrets(
    live === undefined ? undefined : comparable(live),
    comparable(next),
  );
  const from = yamlOf(before);
  const to = yamlOf(after);
  if (from === to) return { id, action: "unchanged", patch: "" };
  const patch = createTwoFilesPatch(`live/${id}`, `git/${id}`, from, to, "", "", {
    context: 3,
  }).replace(/^=+\n/, "");
  return { id, action: live === undefined ? "create" : "update", patch };
}
