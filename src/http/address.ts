import { isIPv4, isIPv6 } from "node:net";

/** A listen address split into its parts; IPv6 hosts are kept without brackets. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
// "host:port" or "[ipv6]:port"; the port is checked for range below.
const HOST_PORT = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;

/**
 * Parses "host:port" (IPv4, a host name, or a bracketed IPv6 address) with a port in 0–65535.
 * Returns undefined for anything else, so callers word their own error.
 */
export function parseHostPort(value: string): HostPort | undefined {
  const match = HOST_PORT.exec(value);
  if (match === null) return undefined;
  const port = Number(match[3]);
  const bracketed = match[1];
  const host = bracketed ?? match[2] ?? "";
  if (port > 65535) return undefined;
  if (bracketed !== undefined) return isIPv6(host) ? { host, port } : undefined;
  return isValidHost(host) ? { host, port } : undefined;
}

function isValidHost(host: string): boolean {
  // All-numeric names would be mistaken for addresses, so they must be real IPv4 addresses.
  if (/^[\d.]+$/.test(host)) return isIPv4(host);
  return HOSTNAME.test(host);
}

/** Formats host and port for a URL, bracketing IPv6 addresses. */
export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The address a local client should dial for a server bound to host: wildcards become loopback. */
export function dialableHost(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  if (host === "::") return "::1";
  return host;
}
