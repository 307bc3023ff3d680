/**
 * Seeded structural mutations of AdmissionReview bodies for the fuzz test. Mutations copy only
 * the path they change (copy-on-write), so 100,000 bodies stay cheap on a 2-core CI machine.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const STRINGS = [
  "",
  "CREATE",
  "UPDATE",
  "DELETE",
  "CONNECT",
  "system:nodes",
  "system:masters",
  "incident-responders",
  "system:serviceaccount:gitops-guard-system:gitops-guard-reconciler",
  "status",
  "scale",
  "Secret",
  "Deployment",
  "2026-01-01T01:00:00Z",
  "9999-12-31T23:59:59Z",
  "INC-1",
  "__proto__",
  "constructor",
  "\u0000\uffff\ud800",
  "../../etc/passwd",
  "(a+)+$",
  "x".repeat(5000),
];

const KEYS = [
  "gitops-guard.io/break-glass",
  "gitops-guard.io/break-glass-expires",
  "gitops-guard.io/break-glass-by",
  "deletionTimestamp",
  "finalizers",
  "__proto__",
  "constructor",
  "toString",
  "data",
  "stringData",
];

function randomScalar(rng: Rng): Json {
  switch (rng.int(6)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1e308, Number.MAX_SAFE_INTEGER, 3.5]);
    default:
      return rng.chance(0.5) ? rng.pick(STRINGS) : randomText(rng);
  }
}

function randomText(rng: Rng): string {
  const length = rng.int(24);
  let s = "";
  for (let i = 0; i < length; i++)
    s += String.fromCharCode(rng.chance(0.9) ? 32 + rng.int(95) : rng.int(0xffff));
  return s;
}

export function randomValue(rng: Rng, depth = 0): Json {
  if (depth > 3 || rng.chance(0.6)) return randomScalar(rng);
  if (rng.chance(0.5)) return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
  const out: { [key: string]: Json } = {};
  for (let i = rng.int(4); i > 0; i--) {
    define(out, rng.chance(0.5) ? rng.pick(KEYS) : randomText(rng), randomValue(rng, depth + 1));
  }
  return out;
}

function nested(depth: number): Json {
  let v: Json = "bottom";
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
}

function isRecord(v: Json): v is { [key: string]: Json } {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isContainer(v: Json): v is Json[] | { [key: string]: Json } {
  return typeof v === "object" && v !== null;
}

/** A random path to an existing node, biased towards going deep. */
function randomPath(rng: Rng, root: Json): (string | number)[] {
  const path: (string | number)[] = [];
  let node = root;
  while (isContainer(node) && !(path.length > 0 && rng.chance(0.25))) {
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    const key = rng.pick<string | number>(keys);
    path.push(key);
    node = Array.isArray(node) ? node[key as number]! : node[key as string]!;
  }
  return path;
}

function define(target: { [key: string]: Json }, key: string, value: Json): void {
  // "__proto__" must stay an ordinary own key, as JSON.parse makes it; assignment is faster
  // for every other key (defineProperty puts objects in slow dictionary mode).
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

/** Copy-on-write: root with the node at path replaced by fn(old), or removed when fn returns undefined. */
function update(
  root: Json,
  path: readonly (string | number)[],
  fn: (old: Json) => Json | undefined,
): Json | undefined {
  if (path.length === 0) return fn(root);
  if (!isContainer(root)) return root;
  const [head, ...rest] = path;
  if (Array.isArray(root)) {
    const i = head as number;
    const replaced = update(root[i] ?? null, rest, fn);
    const copy = [...root];
    if (replaced === undefined) copy.splice(i, 1);
    else copy[i] = replaced;
    return copy;
  }
  const key = String(head);
  const copy = { ...root };
  const replaced = update(Object.hasOwn(root, key) ? root[key]! : null, rest, fn);
  if (replaced === undefined) {
    const { [key]: _dropped, ...others } = copy;
    return others;
  }
  define(copy, key, replaced);
  return copy;
}

type Mutation = (rng: Rng, body: Json) => Json | undefined;

const MUTATIONS: readonly Mutation[] = [
  // drop a field
  (rng, body) => update(body, randomPath(rng, body), () => undefined),
  // change a node's type or value
  (rng, body) => update(body, randomPath(rng, body), () => randomValue(rng)),
  // a random string where a value was
  (rng, body) => update(body, randomPath(rng, body), () => rng.pick(STRINGS)),
  // add a field somewhere
  (rng, body) =>
    update(body, randomPath(rng, body), (old) =>
      isContainer(old) && !Array.isArray(old)
        ? { ...old, [rng.pick(KEYS)]: randomValue(rng) }
        : old,
    ),
  // break-glass annotations with random values on object or oldObject
  (rng, body) =>
    update(body, ["request", rng.pick(["object", "oldObject"]), "metadata"], (meta) =>
      isContainer(meta) && !Array.isArray(meta)
        ? {
            ...meta,
            annotations: { [rng.pick(KEYS.slice(0, 3))]: JSON.stringify(randomScalar(rng)) },
          }
        : meta,
    ),
  // deep nesting inside the object
  (rng, body) =>
    update(body, ["request", "object", "spec"], () => nested(rng.pick([10, 100, 2000]))),
  // swap object and oldObject
  (_rng, body) =>
    update(body, ["request"], (req) =>
      isRecord(req)
        ? { ...req, object: req["oldObject"] ?? null, oldObject: req["object"] ?? null }
        : req,
    ),
];

export function mutate(rng: Rng, body: Json): Json {
  let out = body;
  for (let n = 1 + rng.int(3); n > 0; n--) out = rng.pick(MUTATIONS)(rng, out) ?? null;
  return out;
}

/** Text-level damage: truncation, a flipped character, or junk spliced in. */
export function damageText(rng: Rng, text: string): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(3)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return `${text.slice(0, at)}${String.fromCharCode(rng.int(128))}${text.slice(at + 1)}`;
    default:
      return `${text.slice(0, at)}${rng.pick(['"', "{", "]", ",", "\\u", "\u0000", "null"])}${text.slice(at)}`;
  }
}
