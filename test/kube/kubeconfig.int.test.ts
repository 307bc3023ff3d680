import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { loadConfig } from "../../src/config.js";
import { createKubeClient } from "../../src/kube/client.js";
import { envtest } from "../envtest/context.js";

const dir = mkdtempSync(join(tmpdir(), "gg-kubeconfig-int-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("KUBECONFIG of two files against the real API server", () => {
  it("talks to the cluster of one file with the context of the other, as kubectl would", async () => {
    const whole = parse(readFileSync(envtest().kubeconfigs.admin, "utf8")) as Record<
      string,
      unknown
    >;
    const { contexts, "current-context": current, ...rest } = whole;
    const credentials = join(dir, "credentials");
    const chosen = join(dir, "context");
    writeFileSync(credentials, stringify(rest));
    writeFileSync(
      chosen,
      stringify({ apiVersion: "v1", kind: "Config", contexts, "current-context": current }),
    );
    const config = loadConfig({
      flags: {},
      env: { KUBECONFIG: [credentials, chosen].join(delimiter) },
      hostname: "test",
    });
    const kube = createKubeClient({ kubeconfig: config.kubeconfig ?? [] });
    const ns = await kube.get({ apiVersion: "v1", kind: "Namespace", name: "default" });
    expect(ns?.metadata.name).toBe("default");
  });
});
