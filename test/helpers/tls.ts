/**
 * Throwaway PKI for tests: a self-signed CA and the serving certificates it signs, as PEM
 * strings. The same code makes the envtest control plane's certificates.
 */
import { makeCa, makeServingCert as issueServingCert, type CertPair } from "../envtest/pki.js";

export type PemPair = CertPair;
export type TestCa = CertPair;
export type TestCert = CertPair;

export function makeTestCa(commonName = "gitops-guard test CA"): TestCa {
  return makeCa(commonName);
}

/** A serving certificate for the given DNS names and IP addresses, signed by ca. */
export function makeServingCert(ca: TestCa, hosts: readonly string[]): TestCert {
  return issueServingCert(ca, hosts);
}
