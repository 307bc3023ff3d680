import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCertificate } from "../../src/crypto/sealing/certificate.js";
import { Keyring } from "../../src/crypto/sealing/keyring.js";
import { generateSealingKey, type GeneratedKey } from "../../src/crypto/sealing/keygen.js";
import { readSecret, sealSecret } from "../../src/crypto/sealing/seal.js";
import { readSealedSecret } from "../../src/crypto/sealing/sealed-secret.js";
import { unsealSealedSecret } from "../../src/crypto/sealing/unseal.js";
import { keySecretNameFor, renewalDue } from "../../src/secrets/keys.js";
import { nextCheckIn } from "../../src/secrets/renew.js";
import { secretsRouter } from "../../src/secrets/routes.js";
import { FakeClock } from "../helpers/fake-clock.js";

const PASSWORD = "routes-test-password";
const T0 = Date.UTC(2026, 0, 1);
let oldKey: GeneratedKey;
let newKey: GeneratedKey;
let stranger: GeneratedKey;
let server: Server;
let base: string;
const clock = new FakeClock(T0);

function sealedFor(g: GeneratedKey): Record<string, unknown> {
  const doc = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db", namespace: "prod" },
    stringData: { password: PASSWORD },
  };
  return JSON.parse(
    JSON.stringify(sealSecret(readSecret(doc, "t"), { publicKey: g.key.publicKey })),
  ) as Record<string, unknown>;
}

beforeAll(async () => {
  [oldKey, newKey, stranger] = await Promise.all([
    generateSealingKey({ now: T0 - 86_400_000, bits: 2048 }),
    generateSealingKey({ now: T0, bits: 2048 }),
    generateSealingKey({ now: T0, bits: 2048 }),
  ]);
  const ring = new Keyring([oldKey.key, newKey.key]);
  const app = express();
  app.use(secretsRouter({ keyring: () => Promise.resolve(ring), clock }));
  server = createServer(app).listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

const post = (path: string, body: string): Promise<Response> =>
  fetch(`${base}${path}`, {
    method: "POST",
    body,
    headers: { "Content-Type": "application/json" },
  });

describe("the controller's endpoints", () => {
  it("serves the newest key's certificate and a health check", async () => {
    const res = await fetch(`${base}/v1/cert.pem`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/x-pem-file/);
    expect(parseCertificate(await res.text(), "t").fingerprint).toBe(newKey.key.fingerprint);
    expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok\n");
  });

  it("verifies: 200 when a key opens it, 409 with the reason (never the value) when not", async () => {
    await clock.advance(10_000);
    expect((await post("/v1/verify", JSON.stringify(sealedFor(oldKey)))).status).toBe(200);
    const refused = await post("/v1/verify", JSON.stringify(sealedFor(stranger)));
    expect(refused.status).toBe(409);
    const body = await refused.text();
    expect(body).toMatch(/cannot be opened: none of the 2 keys held/);
    expect(body).not.toContain(PASSWORD);
  });

  it("rate-limits verify per client, 2 per second with a burst of 2", async () => {
    await clock.advance(10_000);
    const doc = JSON.stringify(sealedFor(oldKey));
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await post("/v1/verify", doc)).status);
    expect(codes).toEqual([200, 200, 429]);
    await clock.advance(500);
    expect((await post("/v1/verify", doc)).status).toBe(200);
  });

  it("re-encrypts with the newest key: the result opens with it alone", async () => {
    const res = await post("/v1/rotate", JSON.stringify(sealedFor(oldKey)));
    expect(res.status).toBe(200);
    const rotated = readSealedSecret(await res.json(), "rotated");
    const secret = unsealSealedSecret(rotated, { keyring: new Keyring([newKey.key]) }).secret;
    expect(Buffer.from(secret.data["password"] ?? "", "base64").toString()).toBe(PASSWORD);
  });

  it("answers 400 for a body that is not one SealedSecret", async () => {
    await clock.advance(10_000);
    expect((await post("/v1/rotate", "{not json")).status).toBe(400);
    expect((await post("/v1/rotate", JSON.stringify({ kind: "Secret" }))).status).toBe(400);
    expect((await post("/v1/verify", "a: 1\n---\nb: 2\n")).status).toBe(400);
  });
});

describe("key slots and renewal timing", () => {
  it("names key Secrets after the moment they are due, as DNS names", () => {
    expect(keySecretNameFor("initial")).toBe("sealing-key-initial");
    expect(keySecretNameFor(Date.UTC(2026, 1, 3, 4, 5, 6))).toBe("sealing-key-20260203t040506");
  });

  it("makes a key due renewPeriod after the newest, never when off, and checks at least hourly", () => {
    expect(renewalDue(newKey.key, 1000)).toBe(newKey.key.since + 1000);
    expect(renewalDue(newKey.key, 0)).toBeUndefined();
    expect(renewalDue(undefined, 1000)).toBeUndefined();
    expect(nextCheckIn(undefined, T0)).toBe(3_600_000);
    expect(nextCheckIn(T0 + 5000, T0)).toBe(5000);
    expect(nextCheckIn(T0 + 86_400_000, T0)).toBe(3_600_000);
    expect(nextCheckIn(T0 - 5, T0)).toBe(0);
  });
});
