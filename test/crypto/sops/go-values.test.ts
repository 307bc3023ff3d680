/**
 * The Go text forms the MAC hashes, and go-yaml v3's typing of unquoted scalars: each case
 * is what sops (Go) produces for the same input.
 */
import { describe, expect, it } from "vitest";
import {
  formatGoFloat,
  formatGoFloatG,
  formatGoTimeSeconds,
  normalizeGoTime,
  parseGoBool,
  parseGoFloat,
  parseGoInt,
  parseYamlTimestamp,
} from "../../../src/crypto/sops/go-values.js";
import { FormatError } from "../../../src/crypto/sops/format-error.js";
import { resolveYamlPlain } from "../../../src/crypto/sops/yaml-scalar.js";
import { sopsTime } from "../../../src/crypto/sops/tree.js";

describe("Go number and boolean text", () => {
  it.each([
    [1, "1"],
    [1.5, "1.5"],
    [0.1, "0.1"],
    [1234568000, "1234568000"],
    [1e21, "1000000000000000000000"],
    [1e-7, "0.0000001"],
    [1.2345678901234568e29, "123456789012345680000000000000"],
    [-2.5e-10, "-0.00000000025"],
    [-0, "-0"],
    [NaN, "NaN"],
    [Infinity, "+Inf"],
    [-Infinity, "-Inf"],
  ])("FormatFloat(%s, 'f', -1) = %s", (value, text) => {
    expect(formatGoFloat(value)).toBe(text);
  });

  it.each([
    [1234568000, "1.234568E+09"],
    [123456, "123456"],
    [0.0001, "0.0001"],
    [0.00001, "1E-05"],
    [-1e21, "-1E+21"],
  ])("FormatFloat(%s, 'G', -1) = %s", (value, text) => {
    expect(formatGoFloatG(value)).toBe(text);
  });

  it("parses ints as int64, exactly", () => {
    expect(parseGoInt("9223372036854775807")).toBe(9223372036854775807n);
    expect(parseGoInt("-9223372036854775808")).toBe(-9223372036854775808n);
    expect(parseGoInt("+5")).toBe(5n);
    expect(parseGoInt("9223372036854775808")).toBeUndefined();
    expect(parseGoInt("1.0")).toBeUndefined();
  });

  it("parses floats as ParseFloat does", () => {
    expect(parseGoFloat("25.4")).toBe(25.4);
    expect(parseGoFloat("1e3")).toBe(1000);
    expect(parseGoFloat("+Inf")).toBe(Infinity);
    expect(parseGoFloat("NaN")).toBeNaN();
    expect(parseGoFloat("1e400")).toBeUndefined();
    expect(parseGoFloat("0x1p-2")).toBeUndefined();
  });

  it("parses booleans as ParseBool does", () => {
    expect(["1", "t", "T", "TRUE", "true", "True"].map(parseGoBool)).toEqual(Array(6).fill(true));
    expect(["0", "f", "F", "FALSE", "false", "False"].map(parseGoBool)).toEqual(
      Array(6).fill(false),
    );
    expect(parseGoBool("yes")).toBeUndefined();
  });
});

describe("Go time text", () => {
  it("MarshalText after UnmarshalText", () => {
    expect(normalizeGoTime("2024-01-01T00:00:00Z")).toBe("2024-01-01T00:00:00Z");
    expect(normalizeGoTime("2024-01-01T10:00:00.500+02:00")).toBe("2024-01-01T10:00:00.5+02:00");
    expect(normalizeGoTime("2024-01-01T10:00:00.1234567891-00:00")).toBe(
      "2024-01-01T10:00:00.123456789Z",
    );
    expect(normalizeGoTime("2024-02-30T00:00:00Z")).toBeUndefined();
    expect(normalizeGoTime("2024-01-01 00:00:00Z")).toBeUndefined();
  });

  it("lastmodified as the MAC's AAD: RFC 3339 without fraction", () => {
    expect(formatGoTimeSeconds("2025-08-06T18:55:05.75Z")).toBe("2025-08-06T18:55:05Z");
    expect(formatGoTimeSeconds("2025-08-06T18:55:05+00:00")).toBe("2025-08-06T18:55:05Z");
  });

  it("go-yaml's timestamp layouts", () => {
    expect(parseYamlTimestamp("2024-1-2")).toBe("2024-01-02T00:00:00Z");
    expect(parseYamlTimestamp("2024-01-01 10:00:00")).toBe("2024-01-01T10:00:00Z");
    expect(parseYamlTimestamp("2024-01-01t10:00:00.25Z")).toBe("2024-01-01T10:00:00.25Z");
    expect(parseYamlTimestamp("20240101")).toBeUndefined();
    expect(parseYamlTimestamp("2024-13-01")).toBeUndefined();
  });
});

describe("go-yaml v3 typing of unquoted scalars", () => {
  it.each([
    ["0x1F", 31n],
    ["017", 15n],
    ["0o17", 15n],
    ["0b101", 5n],
    ["1_000", 1000n],
    ["-9223372036854775808", -9223372036854775808n],
    ["09", 9],
    ["1e3", 1000],
    [".5", 0.5],
    ["18446744073709551616", 18446744073709551616],
    ["+9223372036854775808", 9223372036854775808],
    ["True", true],
    ["FALSE", false],
    ["~", null],
    ["", null],
    ["yes", "yes"],
    ["on", "on"],
    ["<<", "<<"],
    ["2024-01-01", sopsTime("2024-01-01T00:00:00Z")],
    ["1.2.3", "1.2.3"],
  ])("%j", (text, value) => {
    expect(resolveYamlPlain(text)).toEqual(value);
  });

  it("an integer between 2^63 and 2^64 is refused, as sops cannot walk a uint64", () => {
    expect(() => resolveYamlPlain("9223372036854775808")).toThrow(FormatError);
  });

  it("honours explicit tags", () => {
    expect(resolveYamlPlain("12", "tag:yaml.org,2002:str")).toBe("12");
    expect(resolveYamlPlain("1", "tag:yaml.org,2002:float")).toBe(1);
    expect(resolveYamlPlain("x", "!Ref")).toBe("x");
    expect(() => resolveYamlPlain("abc", "tag:yaml.org,2002:int")).toThrow(FormatError);
  });
});
