import { describe, expect, it } from "vitest";
import { dialableHost, formatHostPort, parseHostPort } from "../../src/http/address.js";

describe("parseHostPort", () => {
  it.each([
    ["0.0.0.0:9443", { host: "0.0.0.0", port: 9443 }],
    ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }],
    ["localhost:65535", { host: "localhost", port: 65535 }],
    [
      "gitops-guard.gitops-guard-system.svc:443",
      { host: "gitops-guard.gitops-guard-system.svc", port: 443 },
    ],
    ["[::]:8080", { host: "::", port: 8080 }],
    ["[fe80::1]:1", { host: "fe80::1", port: 1 }],
  ])("accepts %s", (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });

  it.each([
    "abc",
    ":8080",
    "host:",
    "host:65536",
    "host:-1",
    "host:80x",
    "::1:80",
    "[nope]:80",
    "999.0.0.1:80",
    "-bad-.example:80",
    "under_score:80",
    "host:8080:1",
  ])("rejects %s", (text) => {
    expect(parseHostPort(text)).toBeUndefined();
  });
});

describe("formatHostPort and dialableHost", () => {
  it("brackets IPv6 and maps wildcard binds to loopback", () => {
    expect(formatHostPort("::1", 80)).toBe("[::1]:80");
    expect(formatHostPort("10.0.0.1", 80)).toBe("10.0.0.1:80");
    expect(dialableHost("0.0.0.0")).toBe("127.0.0.1");
    expect(dialableHost("::")).toBe("::1");
    expect(dialableHost("10.1.2.3")).toBe("10.1.2.3");
  });
});
