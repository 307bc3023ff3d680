/**
 * Reads a dotenv file as sops's dotenv store does (stores/dotenv/store.go), which is not how
 * dotenv libraries read it: lines split on "\n" only, the key is everything before the first
 * "=" (not trimmed), the value everything after it (no quotes removed, "\n" escapes undone),
 * and "#" lines are comments. The dotenv package trims and unquotes, so it would change the
 * values the MAC covers.
 */
import { FormatError } from "./format-error.js";
import { comment, sopsMap, type SopsEntry, type SopsMap } from "./tree.js";

export function readDotenv(text: string): SopsMap {
  const entries: SopsEntry[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      entries.push(comment(line.slice(1)));
      continue;
    }
    const cut = line.indexOf("=");
    if (cut === -1) throw new FormatError(`invalid dotenv line ${index + 1}: no "="`);
    entries.push({ key: line.slice(0, cut), value: line.slice(cut + 1).replaceAll("\\n", "\n") });
  }
  return sopsMap(entries);
}
