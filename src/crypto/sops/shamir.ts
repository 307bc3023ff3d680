/**
 * Shamir's secret sharing over GF(2^8), as sops's shamir package (from HashiCorp Vault) uses
 * it for files with several key groups: each group's key opens one share, the last byte of a
 * share is its x coordinate, and the data key is the polynomial's value at 0.
 */

/** Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (the AES field). */
function mult(a: number, b: number): number {
  let product = 0;
  let x = a;
  for (let bits = b; bits > 0; bits >>= 1) {
    if ((bits & 1) === 1) product ^= x;
    x = (x << 1) ^ ((x & 0x80) === 0 ? 0 : 0x11b);
  }
  return product & 0xff;
}

/** a^254 = a^-1 for a ≠ 0 (Fermat, in the 255-element multiplicative group). */
function inverse(a: number): number {
  let result = 1;
  for (let i = 0; i < 254; i++) result = mult(result, a);
  return result;
}

/** Lagrange interpolation at x = 0. */
function interpolateAtZero(xs: readonly number[], ys: readonly number[]): number {
  let result = 0;
  for (let i = 0; i < xs.length; i++) {
    let basis = 1;
    for (let j = 0; j < xs.length; j++) {
      if (i !== j) basis = mult(basis, mult(xs[j] ?? 0, inverse((xs[i] ?? 0) ^ (xs[j] ?? 0))));
    }
    result ^= mult(ys[i] ?? 0, basis);
  }
  return result;
}

/** Joins shares into the secret; throws an Error when the shares cannot be combined. */
export function combineShares(shares: readonly Uint8Array[]): Uint8Array {
  const length = shares[0]?.length ?? 0;
  if (shares.length < 2) throw new Error("fewer than two shares cannot rebuild the data key");
  if (length < 2 || shares.some((s) => s.length !== length)) {
    throw new Error("the key groups' shares differ in length");
  }
  const xs = shares.map((s) => s[length - 1] ?? 0);
  if (new Set(xs).size !== xs.length) throw new Error("two key groups hold the same share");
  const secret = new Uint8Array(length - 1);
  for (let i = 0; i < secret.length; i++) {
    secret[i] = interpolateAtZero(
      xs,
      shares.map((s) => s[i] ?? 0),
    );
  }
  return secret;
}
