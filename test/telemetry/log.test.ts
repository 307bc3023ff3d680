import { describe, expect, it } from "vitest";
import { createLogger, REDACT_CENSOR, redactPaths, type Logger } from "../../src/telemetry/log.js";
import { sink } from "../helpers/log-sink.js";

const PLAIN = "hunter2-plaintext";
const ENCODED = Buffer.from(PLAIN).toString("base64");

function secret(): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db-credentials", namespace: "shop" },
    type: "Opaque",
    data: { password: ENCODED },
    stringData: { password: PLAIN },
  };
}

function sealedSecret(): Record<string, unknown> {
  return {
    apiVersion: "gitops-guard.io/v1alpha1",
    kind: "SealedSecret",
    metadata: { name: "db-credentials", namespace: "shop" },
    spec: { encryptedData: { password: `AgB${ENCODED}` } },
  };
}

function logWith(fields: Record<string, unknown>): { raw: string; line: Record<string, unknown> } {
  const out = sink();
  createLogger({ level: "info", destination: out.stream }).info(fields, "object seen");
  const [line] = out.lines();
  return { raw: out.raw(), line: line ?? {} };
}

const placements: readonly [string, (s: Record<string, unknown>) => Record<string, unknown>][] = [
  ["obj", (s) => ({ obj: s })],
  ["object", (s) => ({ object: s })],
  ["secret", (s) => ({ secret: s })],
  ["oldObject", (s) => ({ oldObject: s })],
  ["request.object", (s) => ({ request: { object: s } })],
  ["request.oldObject", (s) => ({ request: { oldObject: s } })],
  ["review.request.object", (s) => ({ review: { request: { object: s } } })],
  ["the merge object itself", (s) => s],
  ["items of a list", (s) => ({ items: [s, s] })],
  ["list.items", (s) => ({ list: { kind: "SecretList", items: [s] } })],
  ["an array field", (s) => ({ secrets: [s] })],
];

describe("createLogger redaction", () => {
  it.each(placements)("never writes Secret values logged under %s", (_name, place) => {
    const { raw } = logWith(place(secret()));
    expect(raw).not.toContain(PLAIN);
    expect(raw).not.toContain(ENCODED);
    expect(raw).toContain(REDACT_CENSOR);
    // What is not secret survives, so the log still says which Secret it was.
    expect(raw).toContain("db-credentials");
  });

  it.each(placements)("never writes SealedSecret encryptedData logged under %s", (_name, place) => {
    const { raw } = logWith(place(sealedSecret()));
    expect(raw).not.toContain(ENCODED);
    expect(raw).toContain("db-credentials");
  });

  it("replaces the values with the censor in the parsed line", () => {
    const { line } = logWith({ request: { object: secret() } });
    expect(line).toMatchObject({
      msg: "object seen",
      request: {
        object: {
          kind: "Secret",
          metadata: { name: "db-credentials" },
          data: REDACT_CENSOR,
          stringData: REDACT_CENSOR,
        },
      },
    });
  });

  it("redacts credentials: authorization headers, tokens, passwords, private keys", () => {
    const { raw, line } = logWith({
      req: { method: "POST", headers: { authorization: `Bearer ${PLAIN}`, host: "guard" } },
      token: PLAIN,
      git: { password: PLAIN, privateKey: PLAIN },
      kms: { credentials: { secretAccessKey: PLAIN } },
    });
    expect(raw).not.toContain(PLAIN);
    expect(line).toMatchObject({
      req: { method: "POST", headers: { authorization: REDACT_CENSOR, host: "guard" } },
      token: REDACT_CENSOR,
      git: { password: REDACT_CENSOR, privateKey: REDACT_CENSOR },
    });
  });

  it("keeps redacting in child loggers, which add the component", () => {
    const out = sink();
    const root: Logger = createLogger({ level: "info", destination: out.stream });
    root.child({ component: "secrets" }).info({ obj: secret() }, "materialised");
    expect(out.raw()).not.toContain(PLAIN);
    expect(out.lines()[0]).toMatchObject({ component: "secrets", msg: "materialised" });
  });

  it("does not touch the object that was logged", () => {
    const s = secret();
    logWith({ obj: s });
    expect(s.stringData).toEqual({ password: PLAIN });
  });

  it("exports its path list, covering the common keys", () => {
    const paths = redactPaths();
    for (const p of ["data", "*.data", "*.*.data", "*.stringData", "*.*.*.encryptedData"]) {
      expect(paths).toContain(p);
    }
    expect(paths).toContain("req.headers.authorization");
  });
});

describe("createLogger output", () => {
  it("writes JSON lines with a level name, an ISO time and the name", () => {
    const out = sink();
    createLogger({ level: "info", destination: out.stream, name: "gitops-guard" }).info("hello");
    const [line] = out.lines();
    expect(line).toMatchObject({ level: "info", name: "gitops-guard", msg: "hello" });
    expect(new Date(String(line?.time)).toISOString()).toBe(line?.time);
  });

  it("drops lines below the configured level", () => {
    const out = sink();
    const logger = createLogger({ level: "warn", destination: out.stream });
    logger.info("quiet");
    logger.debug("quieter");
    logger.warn("loud");
    expect(out.lines().map((l) => l.msg)).toEqual(["loud"]);
  });

  it("serialises errors with type, message and stack", () => {
    const out = sink();
    createLogger({ level: "info", destination: out.stream }).error({ err: new Error("boom") }, "x");
    expect(out.lines()[0]).toMatchObject({ err: { type: "Error", message: "boom" } });
  });
});
