/**
 * Base64 exactly as Go's base64.StdEncoding decodes it: padded, standard alphabet, CR and LF
 * ignored, anything else refused. Buffer.from(text, "base64") silently skips bad characters,
 * which would turn a corrupted value into a wrong one instead of an error.
 */
const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The decoded bytes, or undefined when the text is not valid padded standard base64. */
export function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n]/g, "");
  if (!STRICT.test(compact)) return undefined;
  return Buffer.from(compact, "base64");
}

/** Where the text first stops being valid base64, for an error message (0-based). */
export function firstBadBase64Offset(text: string): number {
  const compact = text.replace(/[\r\n]/g, "");
  const bad = /[^A-Za-z0-9+/=]/.exec(compact);
  if (bad !== null) return bad.index;
  const pad = compact.indexOf("=");
  if (pad !== -1 && pad < compact.length - 2) return pad;
  return compact.length - (compact.length % 4);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
