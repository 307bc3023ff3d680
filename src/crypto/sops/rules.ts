/**
 * Which leaves sops encrypted (sops.go shouldBeEncrypted): the file's one rule is tested
 * against every key on the leaf's path, or against the comments above it. A value the rule
 * leaves in clear is read as is; one it covers must decrypt.
 */
import type { EncryptionRule } from "./metadata.js";

/** Comments seen so far at each nesting level, innermost last (sops's commentsStack). */
export type CommentStack = readonly (readonly string[])[];

export type EncryptionTest = (
  path: readonly string[],
  comments: CommentStack,
  isComment: boolean,
) => boolean;

/**
 * A Go RE2 pattern as a JS RegExp. A leading `(?flags)` becomes JS flags and `(?P<name>` a
 * named group; a pattern that still does not compile never matches, as in sops, which
 * ignores regexp.Match's error.
 */
export function goRegExp(pattern: string): RegExp | undefined {
  const lead = /^\(\?([imsU]+)\)/.exec(pattern);
  const flags = (lead?.[1] ?? "").replace(/[^ims]/g, "");
  const body = pattern.slice(lead?.[0].length ?? 0).replaceAll("(?P<", "(?<");
  for (const unicode of ["u", ""]) {
    try {
      return new RegExp(body, flags + unicode);
    } catch {
      // try without the u flag, which rejects some escapes RE2 allows
    }
  }
  return undefined;
}

function matcher(pattern: string): (text: string) => boolean {
  const re = goRegExp(pattern);
  return (text) => re?.test(text) ?? false;
}

function encryptedCommentTest(matches: (text: string) => boolean): EncryptionTest {
  return (_path, comments, isComment) => {
    const last = comments.length - 1;
    return comments.some((level, i) =>
      level.some((text, j) => {
        // The comment line that matches the rule is itself left in clear.
        const itself = isComment && i === last && j === level.length - 1;
        return !itself && matches(text);
      }),
    );
  };
}

export function encryptionTest(rule: EncryptionRule): EncryptionTest {
  const { value } = rule;
  switch (rule.name) {
    case "unencrypted_suffix":
      return (path) => !path.some((key) => key.endsWith(value));
    case "encrypted_suffix":
      return (path) => path.some((key) => key.endsWith(value));
    case "unencrypted_regex": {
      const matches = matcher(value);
      return (path) => !path.some(matches);
    }
    case "encrypted_regex": {
      const matches = matcher(value);
      return (path) => path.some(matches);
    }
    case "unencrypted_comment_regex": {
      const matches = matcher(value);
      return (_path, comments) => !comments.some((level) => level.some(matches));
    }
    case "encrypted_comment_regex":
      return encryptedCommentTest(matcher(value));
  }
}
