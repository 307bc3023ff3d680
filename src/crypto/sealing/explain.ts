/**
 * Turning a diagnosis into a sentence a person can act on: where the value was sealed for,
 * where this object says it lives, and the likely cause (renamed, moved, scope annotation
 * removed, widened or misplaced, copied from another object, another cluster's key).
 * Messages hold names, scopes and key fingerprints; never a value.
 */
import { ErrorCodes, type ErrorCode } from "../../errors.js";
import type { Place, Verdict } from "./diagnose.js";
import { labelText, SCOPES, type Scope } from "./scope.js";

/** Where the object being opened lives, and what scope its annotations claim. */
export interface ObjectPlace {
  readonly scope: Scope;
  readonly namespace: string;
  readonly name: string;
  /** The scope spec.template.metadata.annotations would select, to spot a misplaced annotation. */
  readonly templateScope: Scope;
}

export interface Explanation {
  readonly code: ErrorCode;
  readonly message: string;
}

function describe(scope: Scope, namespace: string, name: string): string {
  if (scope === "cluster-wide") return "any namespace (cluster-wide scope)";
  if (scope === "namespace-wide") return `namespace "${namespace}" (namespace-wide scope)`;
  return `"${namespace}/${name}" (strict scope)`;
}

function samePlaceCause(object: ObjectPlace, place: Place): string {
  const moved = place.namespace !== object.namespace;
  const renamed = place.scope === "strict" && place.name !== object.name;
  if (place.origin.startsWith("SealedSecret ")) return `was it copied from ${place.origin}?`;
  if (moved && renamed) return "was it renamed and moved to another namespace?";
  if (moved) return "was it moved to another namespace?";
  return "was it renamed?";
}

function scopeCause(object: ObjectPlace, place: Place): string {
  const wider = SCOPES.indexOf(place.scope) > SCOPES.indexOf(object.scope);
  if (wider && object.templateScope === place.scope) {
    return (
      `the ${place.scope} annotation is only in spec.template.metadata.annotations; the scope ` +
      "is read from the SealedSecret's own metadata.annotations"
    );
  }
  if (wider) return `was its ${place.scope} scope annotation removed?`;
  return (
    `was its scope annotation widened to ${object.scope} after sealing? A scope cannot be ` +
    "widened without sealing the value again"
  );
}

function otherPlace(object: ObjectPlace, place: Place, fingerprint: string): string {
  const cause =
    place.scope === object.scope ? samePlaceCause(object, place) : scopeCause(object, place);
  return (
    `was sealed for ${describe(place.scope, place.namespace, place.name)}, but this SealedSecret ` +
    `expects ${describe(object.scope, object.namespace, object.name)}: ${cause} ` +
    `(key ${fingerprint} would open it; seal it again for where it lives now)`
  );
}

function noKey(fingerprints: readonly string[], siblings: readonly string[]): string {
  if (fingerprints.length === 0) return "cannot be opened: no private keys are held";
  const tried = `cannot be opened: none of the ${fingerprints.length} keys held (${fingerprints.join(", ")}) opens it`;
  const sibling = siblings[0];
  if (sibling !== undefined) {
    return (
      `${tried}, while the other values of this object open with ${sibling}: this value was ` +
      "altered (its RSA block), or sealed with another controller's certificate"
    );
  }
  return `${tried}: it was sealed with another controller's certificate, or its RSA block was altered`;
}

/**
 * The error for a value no key opened under the object's label. `siblings` are the
 * fingerprints that opened the object's other values.
 */
export function explain(
  verdict: Verdict,
  object: ObjectPlace,
  fingerprints: readonly string[],
  siblings: readonly string[],
): Explanation {
  switch (verdict.kind) {
    case "other-place":
      return {
        code: ErrorCodes.UNSEAL_SCOPE_MISMATCH,
        message: otherPlace(object, verdict.place, verdict.fingerprint),
      };
    case "unknown-place": {
      const label = JSON.stringify(labelText(object.scope, object.namespace, object.name));
      return {
        code: ErrorCodes.UNSEAL_FOREIGN_VALUE,
        message:
          `belongs to another object: key ${verdict.fingerprint} opens its RSA block, but it was ` +
          `sealed for a name, namespace or scope other than this SealedSecret's ` +
          `${describe(object.scope, object.namespace, object.name)}, label ${label}: was it ` +
          "copied from another SealedSecret?",
      };
    }
    case "no-key":
      return { code: ErrorCodes.UNSEAL_NO_KEY, message: noKey(fingerprints, siblings) };
  }
}
