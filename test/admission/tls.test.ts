/**
 * The webhook's own PKI and its renewal: when a certificate is renewed (planBundle), and that a
 * running server serves the new one to new connections without a restart (keepTlsFresh).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { planBundle, type RenewalPolicy } from "../../src/admission/tls/bundle.js";
import { fileTlsSource, hasCertificateFiles } from "../../src/admission/tls/file-source.js";
import {
  certificateFacts,
  createCa,
  issueServing,
  splitPem,
} from "../../src/admission/tls/issue.js";
import { keepTlsFresh } from "../../src/admission/tls/reload.js";
import { servingHosts } from "../../src/admission/tls/select.js";
import { startServer, type RunningServer } from "../../src/http/server.js";
import { createLogger } from "../../src/telemetry/log.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { NOW } from "./helpers.js";

const HOUR = 3_600_000;
const SHORT: RenewalPolicy = {
  caValidForMs: 30 * HOUR,
  servingValidForMs: 3 * HOUR,
  renewFraction: 1 / 3,
};
const HOSTS = ["gitops-guard-webhook.gitops-guard-system.svc", "127.0.0.1"];

describe("planBundle", () => {
  it("creates a CA and a serving certificate for the hosts, then keeps them while fresh", () => {
    const first = planBundle(undefined, HOSTS, NOW, SHORT);
    expect(first.change).toBe("no certificate yet");
    expect(certificateFacts(first.bundle.cert)).toMatchObject({
      hosts: HOSTS,
      notAfter: NOW + 3 * HOUR,
    });
    expect(planBundle(first.bundle, HOSTS, NOW + HOUR, SHORT)).toEqual({ bundle: first.bundle });
  });

  it("reissues the serving certificate when a third of its life is left or a host is missing", () => {
    const { bundle } = planBundle(undefined, HOSTS, NOW, SHORT);
    const due = planBundle(bundle, HOSTS, NOW + 2 * HOUR + 1, SHORT);
    expect(due.change).toBe("the serving certificate is due for renewal");
    expect(due.bundle.caBundle).toBe(bundle.caBundle);
    expect(due.bundle.cert).not.toBe(bundle.cert);
    const more = planBundle(bundle, [...HOSTS, "localhost"], NOW, SHORT);
    expect(more.change).toBe("the serving certificate lacks localhost");
  });

  it("rotates the CA before it expires and keeps trusting the old one until then", () => {
    const { bundle } = planBundle(undefined, HOSTS, NOW, SHORT);
    const rotated = planBundle(bundle, HOSTS, NOW + 21 * HOUR, SHORT);
    expect(rotated.change).toBe("the CA is due for renewal");
    const cas = splitPem(rotated.bundle.caBundle);
    expect(cas).toHaveLength(2);
    expect(cas[1]?.trim()).toBe(bundle.caBundle.trim());
    const later = planBundle(rotated.bundle, HOSTS, NOW + 31 * HOUR, SHORT);
    expect(splitPem(later.bundle.caBundle)).toHaveLength(1);
    expect(planBundle({ ...bundle, cert: "garbage" }, HOSTS, NOW, SHORT).change).toBe(
      "the stored certificate is unreadable",
    );
  });

  it("names the Service and, out of a cluster, loopback", () => {
    expect(
      servingHosts({ serviceName: "gg", namespace: "ns", listenHost: "0.0.0.0", inCluster: true }),
    ).toEqual(["gg", "gg.ns", "gg.ns.svc", "gg.ns.svc.cluster.local"]);
    expect(
      servingHosts({
        serviceName: "gg",
        namespace: "ns",
        listenHost: "10.1.2.3",
        inCluster: false,
      }).slice(4),
    ).toEqual(["127.0.0.1", "localhost", "10.1.2.3"]);
  });
});

describe("certificate reload", () => {
  let dir = "";
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function presented(port: number, ca: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.end();
      });
      socket.on("error", reject);
    });
  }

  it("serves a renewed certificate to new connections without a restart", async () => {
    dir = mkdtempSync(join(tmpdir(), "gg-tls-"));
    const ca = createCa("test CA", { now: Date.now(), validForMs: HOUR });
    const issue = (): { cert: string; key: string } =>
      issueServing(ca, ["localhost", "127.0.0.1"], { now: Date.now(), validForMs: HOUR });
    const write = (pair: { cert: string; key: string }): void => {
      writeFileSync(join(dir, "tls.crt"), pair.cert);
      writeFileSync(join(dir, "tls.key"), pair.key);
    };
    const [a, b] = [issue(), issue()];
    write(a);
    expect(await hasCertificateFiles(dir)).toBe(true);
    const source = fileTlsSource({ cert: join(dir, "tls.crt"), key: join(dir, "tls.key") }, 1000);
    const current = await source.load();
    const logger = createLogger({ level: "silent" });
    server = await startServer({ app: express(), listen: "127.0.0.1:0", tls: current, logger });
    const before = await presented(server.port, ca.cert);
    const clock = new FakeClock();
    const abort = new AbortController();
    const changes: string[] = [];
    const loop = keepTlsFresh(
      {
        source,
        server,
        clock,
        logger,
        current,
        onChange: (m) => Promise.resolve(void changes.push(m.cert)),
      },
      abort.signal,
    );
    write(b);
    await clock.advance(1000);
    for (let i = 0; i < 100 && changes.length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(changes).toEqual([b.cert]);
    const after = await presented(server.port, ca.cert);
    expect(after).not.toBe(before);
    abort.abort();
    await loop;
    expect(() => {
      server?.setTls({ cert: "nope", key: "nope" });
    }).toThrow(/invalid TLS certificate or key/);
  });
});
