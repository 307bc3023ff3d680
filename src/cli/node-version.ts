import { ErrorCodes } from "../errors.js";

// node:crypto's X509Certificate dates, process.threadCpuUsage and the rest of what the product
// uses arrived in Node 22–24; package.json's engines field says the same.
export const MIN_NODE_MAJOR = 24;

/** The line to print when this Node is older than the product needs; undefined when it is not. */
export function nodeTooOld(version: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1] ?? "0");
  if (major >= MIN_NODE_MAJOR) return undefined;
  return `error ${ErrorCodes.NODE_TOO_OLD}: gitops-guard needs Node.js ${String(MIN_NODE_MAJOR)} or later; this is ${version}\n`;
}
