/**
 * Small builders of CEL text for the compiled ValidatingAdmissionPolicy. Literals go through
 * JSON.stringify: its escapes (\\, \", \n, \uXXXX) are valid CEL string escapes, so no value
 * from a GuardPolicy can break out of a literal.
 */

export function celString(value: string): string {
  return JSON.stringify(value);
}

export function celList(values: Iterable<string>): string {
  return `[${[...values].map(celString).join(", ")}]`;
}

/** Joins with && / ||; an empty list is the neutral element. */
export function allOf(parts: readonly string[]): string {
  return parts.length === 0 ? "true" : parts.map((p) => `(${p})`).join(" && ");
}

export function anyOf(parts: readonly string[]): string {
  return parts.length === 0 ? "false" : parts.map((p) => `(${p})`).join(" || ");
}

/** userInfo.groups is omitted from the request when empty: has() first. */
export function inAnyGroup(groups: readonly string[]): string {
  if (groups.length === 0) return "false";
  return `has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in ${celList(groups)})`;
}

export function isUser(users: readonly string[]): string {
  return users.length === 0 ? "false" : `request.userInfo.username in ${celList(users)}`;
}

/** The member of a map expression, or an empty map when it is absent. */
export function member(map: string, key: string): string {
  return `(${celString(key)} in ${map} ? ${map}[${celString(key)}] : {})`;
}

/** metadata.annotations of an object expression that may be null, as a map. */
export function annotationsOf(object: string): string {
  return `(${object} != null && has(${object}.metadata.annotations) ? ${object}.metadata.annotations : {})`;
}
