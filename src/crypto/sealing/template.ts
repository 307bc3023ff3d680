/**
 * spec.template.data: the subset of Go text/template that sealed-secret templates use. An
 * action is a pipeline: `{{ .password }}`, `{{ toJson .password }}`,
 * `{{ printf "%s:%s" .user .password | b64enc }}`, with `{{-`/`-}}` trimming and comments.
 * Control structures (if, range, with, define) and variables are refused with a clear error
 * rather than half-implemented. Go's quirks are kept: `{{ .missing }}` prints `<no value>`,
 * `{{ index . "missing" }}` prints nothing. The context is the decrypted values as bytes, so
 * `{{ .binary }}` copies bytes exactly. No general template library for JavaScript runs Go
 * templates with function pipelines, so this small evaluator is our own; it is bounded
 * (no loops) and has no access to anything but the values.
 */
import { ErrorCodes, GuardError } from "../../errors.js";
import {
  callFunction,
  isDataMap,
  isFunction,
  MAX_RENDERED_BYTES,
  MISSING,
  type Value,
} from "./template-funcs.js";

type Token =
  | { readonly kind: "field"; readonly path: readonly string[] }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "word"; readonly value: string }
  | { readonly kind: "(" | ")" | "|" };

const TOKEN =
  /\s+|(?<open>\()|(?<close>\))|(?<pipe>\|)|(?<dq>"(?:[^"\\\n]|\\.)*")|(?<raw>`[^`]*`)|(?<field>\.(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?)|(?<number>-?\d+(?:\.\d+)?)|(?<word>[A-Za-z_][A-Za-z0-9_]*)|(?<end>\s*-?\}\})/y;

const UNSUPPORTED = new Set([
  "if",
  "else",
  "end",
  "range",
  "with",
  "define",
  "template",
  "block",
  "break",
  "continue",
]);

function fail(problem: string): never {
  throw new GuardError(ErrorCodes.UNSEAL_TEMPLATE_INVALID, `cannot be rendered: ${problem}`);
}

function goString(literal: string): string {
  try {
    return JSON.parse(literal) as string;
  } catch {
    return fail(`the string ${literal} uses an escape this renderer does not support`);
  }
}

function tokenFor(groups: Record<string, string | undefined>, text: string): Token | undefined {
  if (groups.open !== undefined) return { kind: "(" };
  if (groups.close !== undefined) return { kind: ")" };
  if (groups.pipe !== undefined) return { kind: "|" };
  if (groups.dq !== undefined) return { kind: "string", value: goString(text) };
  if (groups.raw !== undefined) return { kind: "string", value: text.slice(1, -1) };
  if (groups.field !== undefined)
    return {
      kind: "field",
      path: text
        .split(".")
        .slice(1)
        .filter((p) => p !== ""),
    };
  if (groups.number !== undefined) return { kind: "number", value: Number(text) };
  if (groups.word !== undefined) return { kind: "word", value: text };
  return undefined;
}

interface Action {
  readonly tokens: Token[];
  /** Index just past the closing braces. */
  readonly end: number;
  readonly trimAfter: boolean;
}

function lexAction(source: string, start: number): Action {
  const tokens: Token[] = [];
  TOKEN.lastIndex = start;
  for (;;) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(source);
    if (match === null) {
      return fail(
        at >= source.length
          ? "an action is not closed with }}"
          : `unexpected ${JSON.stringify(source.slice(at, at + 10))} at offset ${at}`,
      );
    }
    const groups = match.groups ?? {};
    if (groups.end !== undefined)
      return { tokens, end: TOKEN.lastIndex, trimAfter: groups.end.trim().startsWith("-") };
    const token = tokenFor(groups, match[0]);
    if (token !== undefined) tokens.push(token);
  }
}

const NONE = Symbol("no piped value");

/** A recursive-descent evaluator over one action's tokens. */
class Pipeline {
  private position = 0;
  private readonly tokens: readonly Token[];
  private readonly values: ReadonlyMap<string, Buffer>;

  constructor(tokens: readonly Token[], values: ReadonlyMap<string, Buffer>) {
    this.tokens = tokens;
    this.values = values;
  }

  run(): Value {
    const result = this.pipeline();
    if (this.position < this.tokens.length) fail("unexpected ) in an action");
    return result;
  }

  private pipeline(): Value {
    let piped: Value | typeof NONE = NONE;
    for (;;) {
      piped = this.command(piped);
      if (this.tokens[this.position]?.kind !== "|") return piped;
      this.position++;
    }
  }

  private command(piped: Value | typeof NONE): Value {
    const head = this.tokens[this.position];
    if (head === undefined || head.kind === "|" || head.kind === ")")
      return fail("an empty command in a pipeline");
    if (head.kind === "word" && isFunction(head.value)) {
      this.position++;
      const args: Value[] = [];
      while (this.atOperand()) args.push(this.operand());
      if (piped !== NONE) args.push(piped);
      return callFunction(head.value, args, this.values);
    }
    const value = this.operand();
    if (this.atOperand()) fail("only a function takes arguments");
    if (piped !== NONE) fail("a pipeline can only feed a function");
    return value;
  }

  private atOperand(): boolean {
    const kind = this.tokens[this.position]?.kind;
    return kind !== undefined && kind !== "|" && kind !== ")";
  }

  private operand(): Value {
    const token = this.tokens[this.position++];
    switch (token?.kind) {
      case "string":
      case "number":
        return token.value;
      case "field":
        return this.field(token.path);
      case "(": {
        const value = this.pipeline();
        if (this.tokens[this.position++]?.kind !== ")") fail("a ( is not closed");
        return value;
      }
      case "word":
        return this.word(token.value);
      default:
        return fail("a pipeline is cut short");
    }
  }

  private field(path: readonly string[]): Value {
    const [key, deeper] = path;
    if (key === undefined) return this.values;
    if (deeper !== undefined) fail(`.${path.join(".")}: values are strings, they have no fields`);
    return this.values.get(key) ?? MISSING;
  }

  private word(word: string): Value {
    if (word === "true" || word === "false") return word === "true";
    if (word === "nil") return null;
    if (UNSUPPORTED.has(word))
      fail(`"${word}" is not supported: spec.template.data takes pipelines only`);
    return fail(`function "${word}" is not defined`);
  }
}

// Go trims exactly these: space, tab, CR, LF.
const LEADING_SPACE = /^[ \t\r\n]+/;
const TRAILING_SPACE = /[ \t\r\n]+$/;

function toBytes(value: Value): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value === MISSING || value === null) return Buffer.from("<no value>");
  if (isDataMap(value)) return fail("the whole data map cannot be printed; name a key: {{ .key }}");
  return Buffer.from(String(value), "utf8");
}

/** Renders one template.data item; throws UNSEAL_TEMPLATE_INVALID saying what is wrong. */
export function renderTemplate(source: string, values: ReadonlyMap<string, Buffer>): Buffer {
  const out: Buffer[] = [];
  let text = 0;
  let trimNext = false;
  for (let open = source.indexOf("{{", text); open !== -1; open = source.indexOf("{{", text)) {
    const trimBefore = /^\{\{-\s/.test(source.slice(open, open + 4));
    let chunk = source.slice(text, open);
    if (trimNext) chunk = chunk.replace(LEADING_SPACE, "");
    out.push(Buffer.from(trimBefore ? chunk.replace(TRAILING_SPACE, "") : chunk, "utf8"));
    const inner = open + (trimBefore ? 3 : 2);
    const comment = /^\s*\/\*[\s\S]*?\*\/\s*(-?)\}\}/.exec(source.slice(inner));
    if (comment !== null) {
      text = inner + comment[0].length;
      trimNext = comment[1] === "-";
      continue;
    }
    const action = lexAction(source, inner);
    if (action.tokens.length === 0) fail("an empty action {{ }}");
    out.push(toBytes(new Pipeline(action.tokens, values).run()));
    text = action.end;
    trimNext = action.trimAfter;
  }
  const rest = source.slice(text);
  out.push(Buffer.from(trimNext ? rest.replace(LEADING_SPACE, "") : rest, "utf8"));
  const rendered = Buffer.concat(out);
  if (rendered.length > MAX_RENDERED_BYTES)
    fail("the result exceeds 1 MiB, the size limit of a Secret");
  return rendered;
}
