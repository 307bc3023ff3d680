import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../../src/errors.js";
import { renderTemplate } from "../../../src/crypto/sealing/template.js";
import { ensureGoTool, GO_TOOL_BUILD_TIMEOUT_MS } from "../../tools/go-tools.js";

const VALUES = new Map<string, Buffer>([
  ["user", Buffer.from("admin")],
  ["password", Buffer.from('p@ss<w>&"rd\n')],
  ["binary", Buffer.from([0x00, 0xff, 0xfe, 0x41])],
  ["padded", Buffer.from("  spaced out \n")],
  ["empty", Buffer.alloc(0)],
  ["unicode", Buffer.from("héllo wörld \u2028")],
]);

/** Templates both renderers must agree on, byte for byte. */
const AGREED = [
  "plain text, no actions",
  "{{ .user }}:{{ .password }}",
  "{{ .binary }}",
  "{{ .missing }}",
  '{{ index . "user" }}|{{ index . "missing" }}|',
  "{{ toJson .password }} {{ toJson .unicode }} {{ toJson .binary }}",
  '{"password": {{ toJson .password }}, "user": {{ .user | quote }}}',
  "{{ .user | b64enc }} {{ .binary | b64enc }}",
  '{{ "YWRtaW4=" | b64dec }}',
  '{{ printf "%s:%s" .user .password | b64enc }}',
  '{{ printf "%q %v %x %%" .user .user .binary }}',
  '{{ printf "%d" 42 }}',
  '{{ .user | upper }} {{ lower "ABC" }} {{ .padded | trim }}|',
  '{{ trimPrefix "ad" .user }} {{ trimSuffix "in" .user }} {{ replace "a" "A" .user }}',
  "{{ .user | squote }} {{ quote .user .password }}",
  '{{ default "fallback" .empty }} {{ default "fallback" .user }} {{ default "fallback" .missing }}',
  "{{ .password | sha256sum }} {{ .binary | sha1sum }}",
  "users:{{ .user | nindent 2 }}\n{{ indent 4 .padded }}",
  '{{ cat .user "and" .user }} {{ contains "dm" .user }} {{ hasPrefix "ad" .user }} {{ hasSuffix "x" .user }}',
  '{{ repeat 3 "ab" }} {{ len .binary }} {{ len . }} {{ toString 12 }}',
  "{{- .user -}}   \n  {{ .user }}  {{- /* a comment */ -}}  !",
  "a {{/* comment */}} b {{- /* trimmed */}} c",
  '{{ (printf "%s-%s" .user .user) | upper }}',
  "{{ print .user 1 2 .user }}",
  "{{ `raw {{ string }}` }}",
  '{{ "tab\\tnewline\\n" }}',
];

/** Templates both refuse (the messages differ; each renderer explains in its own words). */
const BOTH_REFUSE = [
  "{{ .user ",
  "{{ nosuchfunc .user }}",
  "{{ upper .missing }}",
  "{{ upper .user .user }}",
  "{{ .user.name }}",
  "{{ }}",
  '{{ "unterminated }}',
];

interface GoResult {
  readonly output?: string;
  readonly error?: string;
}

let go: GoResult[];

beforeAll(() => {
  const binary = ensureGoTool("gotemplate");
  const cases = [...AGREED, ...BOTH_REFUSE].map((template) => ({
    template,
    values: Object.fromEntries([...VALUES].map(([k, v]) => [k, v.toString("base64")])),
  }));
  const out = execFileSync(binary, [], { input: JSON.stringify(cases), encoding: "utf8" });
  go = JSON.parse(out) as GoResult[];
}, GO_TOOL_BUILD_TIMEOUT_MS);

function ours(template: string): Buffer | Error {
  try {
    return renderTemplate(template, VALUES);
  } catch (err: unknown) {
    return err as Error;
  }
}

describe("renderTemplate agrees with Go text/template + Sprig", () => {
  it.each(AGREED.map((t, i) => [i, t] as const))("case %i: %s", (i, template) => {
    const expected = go[i];
    expect(expected?.error, "the Go oracle must render it").toBeUndefined();
    const result = ours(template);
    expect(result).toBeInstanceOf(Buffer);
    expect((result as Buffer).toString("base64")).toBe(expected?.output ?? "");
  });

  it.each(BOTH_REFUSE.map((t, i) => [AGREED.length + i, t] as const))(
    "case %i refused by both: %s",
    (i, template) => {
      expect(go[i]?.error, "the Go oracle must refuse it").toBeDefined();
      const result = ours(template);
      expect(result).toMatchObject({ code: ErrorCodes.UNSEAL_TEMPLATE_INVALID });
      expect((result as Error).message).toMatch(/^cannot be rendered: /);
    },
  );
});

describe("renderTemplate refuses what it does not implement, clearly", () => {
  it.each([
    ["{{ if .user }}x{{ end }}", '"if" is not supported: spec.template.data takes pipelines only'],
    ["{{ range .user }}x{{ end }}", '"range" is not supported'],
    ["{{ $x := .user }}", 'unexpected "$x := .use"'],
    ['{{ printf "%5s" .user }}', "printf: %5s is not supported"],
    ["{{ . }}", "the whole data map cannot be printed"],
    ["{{ htpasswd .user .password }}", 'function "htpasswd" is not defined'],
  ])("%s", (template, message) => {
    expect(ours(template)).toMatchObject({
      code: ErrorCodes.UNSEAL_TEMPLATE_INVALID,
      message: expect.stringContaining(message) as unknown,
    });
  });

  it("caps the output at 1 MiB, the size of a Secret", () => {
    expect(ours('{{ repeat 2000000 "x" }}')).toMatchObject({
      message: "cannot be rendered: repeat: the result exceeds 1 MiB",
    });
  });
});
