/**
 * A JSON string exactly as Go's encoding/json writes one from a Go string (arbitrary bytes):
 * each invalid UTF-8 byte becomes the escape \ufffd (TextDecoder would merge some of them
 * into one replacement character), <, > and & are escaped for HTML safety, and so are U+2028
 * and U+2029. Sprig's toJson, used in sealed-secret templates, writes this.
 */
const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x22: '\\"',
  0x5c: "\\\\",
  0x08: "\\b",
  0x0c: "\\f",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
};
const HTML_UNSAFE = new Set([0x3c, 0x3e, 0x26]);

function unicodeEscape(code: number): string {
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

function ascii(byte: number): string {
  const short = SHORT_ESCAPES[byte];
  if (short !== undefined) return short;
  if (byte < 0x20 || HTML_UNSAFE.has(byte)) return unicodeEscape(byte);
  return String.fromCharCode(byte);
}

/** [lowest, highest] allowed second byte for a lead byte, as Go's utf8.DecodeRune checks. */
function secondByteRange(lead: number): readonly [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** The length of the valid UTF-8 sequence at `at`, or 0 when the byte there starts none. */
function validLength(bytes: Uint8Array, at: number): number {
  const lead = bytes[at] ?? 0;
  const length = sequenceLength(lead);
  if (length === 0 || at + length > bytes.length) return 0;
  const [low, high] = secondByteRange(lead);
  const second = bytes[at + 1] ?? 0;
  if (second < low || second > high) return 0;
  const rest = bytes.subarray(at + 2, at + length);
  return rest.every((next) => next >= 0x80 && next <= 0xbf) ? length : 0;
}

export function goJsonString(bytes: Uint8Array): string {
  const out: string[] = ['"'];
  const decoder = new TextDecoder();
  for (let at = 0; at < bytes.length;) {
    const byte = bytes[at] ?? 0;
    if (byte < 0x80) {
      out.push(ascii(byte));
      at++;
      continue;
    }
    const length = validLength(bytes, at);
    if (length === 0) {
      out.push("\\ufffd");
      at++;
      continue;
    }
    const char = decoder.decode(bytes.subarray(at, at + length));
    out.push(char === "\u2028" || char === "\u2029" ? unicodeEscape(char.charCodeAt(0)) : char);
    at += length;
  }
  out.push('"');
  return out.join("");
}
