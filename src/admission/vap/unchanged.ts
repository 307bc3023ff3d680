/**
 * "The UPDATE changes nothing that counts", in CEL: object and oldObject compared with the same
 * noise removed as field-diff.ts removes (status, server-kept metadata, kubectl's
 * last-applied annotation, absent vs empty labels and annotations) plus the ignored pointers.
 *
 * The compiled policy may only deny what the webhook denies (it runs first, and both must
 * allow), so wherever CEL cannot follow a pointer exactly it ignores more, never less: a
 * pointer into an array ignores the whole array.
 */
import { LAST_APPLIED, NOISE_METADATA_FIELDS } from "../field-diff.js";
import { celList, member } from "./cel.js";

export interface IgnoreNode {
  /** Keys ignored with everything below them. */
  readonly leaves: Set<string>;
  /** Keys compared, except for what the child ignores. */
  readonly children: Map<string, IgnoreNode>;
}

const NOISE_METADATA = NOISE_METADATA_FIELDS;

function node(): IgnoreNode {
  return { leaves: new Set(), children: new Map() };
}

/** "/metadata/labels/app.kubernetes.io~1name" -> ["metadata", "labels", "app.kubernetes.io/name"] */
export function pointerSegments(pointer: string): string[] {
  const segments = pointer
    .split("/")
    .slice(1)
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
  // Array positions cannot be compared key by key in CEL: stop at the array itself.
  const arrayAt = segments.findIndex((s) => /^(\d+|-)$/.test(s));
  return arrayAt < 0 ? segments : segments.slice(0, arrayAt);
}

function insert(root: IgnoreNode, segments: readonly string[]): void {
  let at = root;
  for (const [i, key] of segments.entries()) {
    if (at.leaves.has(key)) return;
    if (i === segments.length - 1) {
      at.leaves.add(key);
      at.children.delete(key);
      return;
    }
    let next = at.children.get(key);
    if (next === undefined) {
      next = node();
      at.children.set(key, next);
    }
    at = next;
  }
}

/** The base tree (what field-diff.ts never counts) with the given pointers added. */
export function ignoreTree(pointers: readonly string[]): IgnoreNode {
  const root = node();
  insert(root, ["status"]);
  for (const key of NOISE_METADATA) insert(root, ["metadata", key]);
  insert(root, ["metadata", "annotations", LAST_APPLIED]);
  // Present so that absent and empty compare equal, as in field-diff.ts.
  const metadata = root.children.get("metadata");
  if (metadata !== undefined && !metadata.children.has("labels")) {
    metadata.children.set("labels", node());
  }
  for (const pointer of pointers) {
    const segments = pointerSegments(pointer);
    // A pointer to the whole object ignores everything.
    if (segments.length === 0) return { leaves: new Set(["*"]), children: new Map() };
    insert(root, segments);
  }
  return root;
}

function isEmpty(tree: IgnoreNode): boolean {
  return tree.leaves.size === 0 && tree.children.size === 0;
}

function mapCompare(a: string, b: string, tree: IgnoreNode): string {
  const skipped = [...tree.leaves, ...tree.children.keys()];
  const skip = skipped.length === 0 ? "false" : `k in ${celList(skipped)}`;
  const parts = [
    `${a}.all(k, ${skip} || (k in ${b} && ${a}[k] == ${b}[k]))`,
    `${b}.all(k, ${skip} || k in ${a})`,
  ];
  for (const [key, child] of tree.children) {
    parts.push(sameExcept(member(a, key), member(b, key), child, false));
  }
  return parts.join(" && ");
}

/**
 * CEL that is true when a and b are equal outside the tree. Below the root a value may turn
 * out not to be a map (a pointer into a string): it is then compared whole.
 */
export function sameExcept(a: string, b: string, tree: IgnoreNode, root = true): string {
  if (tree.leaves.has("*")) return "true";
  if (isEmpty(tree)) return `${a} == ${b}`;
  const compare = mapCompare(a, b, tree);
  if (root) return compare;
  return `((type(${a}) == map && type(${b}) == map) ? (${compare}) : ${a} == ${b})`;
}

/** The tree as plain data, to detect identical trees (and test them). */
export function treeKey(tree: IgnoreNode): string {
  const walk = (n: IgnoreNode): unknown => ({
    l: [...n.leaves].sort(),
    c: [...n.children.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, walk(v)]),
  });
  return JSON.stringify(walk(tree));
}
