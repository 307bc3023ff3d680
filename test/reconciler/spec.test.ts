import { describe, expect, it } from "vitest";
import { ErrorCodes } from "../../src/errors.js";
import { parseDuration } from "../../src/reconciler/duration.js";
import {
  commitOf,
  formatRevision,
  parseGitSyncSpec,
  type GitSyncObject,
} from "../../src/reconciler/gitsync.js";
import { TerminalError } from "../../src/runtime/result.js";

const gs = (spec: Record<string, unknown>): GitSyncObject => ({
  apiVersion: "gitops-guard.io/v1alpha1",
  kind: "GitSync",
  metadata: { name: "apps", namespace: "team", generation: 1 },
  spec,
});

describe("GitSync spec", () => {
  it("fills the CRD's defaults", () => {
    expect(parseGitSyncSpec(gs({ url: "https://git.example/r.git" }))).toEqual({
      url: "https://git.example/r.git",
      ref: { kind: "head", name: "HEAD" },
      path: ".",
      intervalMs: 60_000,
      prune: true,
      pruneMaxPercent: 50,
      selfHeal: true,
      suspend: false,
      dependsOn: [],
      deletionPolicy: "Delete",
    });
  });

  it("reads the tenancy fields: the account and what deletion does", () => {
    const spec = parseGitSyncSpec(
      gs({
        url: "https://git.example/r.git",
        serviceAccountName: "deployer",
        deletionPolicy: "Orphan",
      }),
    );
    expect(spec.serviceAccountName).toBe("deployer");
    expect(spec.deletionPolicy).toBe("Orphan");
  });

  it("marks spec.decryption set without a Secret (the controller's own AWS identity may serve)", () => {
    const spec = parseGitSyncSpec(gs({ url: "https://git.example/r.git", decryption: {} }));
    expect(spec.decryption).toBe(true);
    expect(spec.decryptionSecretName).toBeUndefined();
    expect(parseGitSyncSpec(gs({ url: "https://git.example/r.git" })).decryption).toBeUndefined();
  });

  it("reads refs, credentials, decryption, the prune guard and dependencies", () => {
    const spec = parseGitSyncSpec(
      gs({
        url: "git@git.example:org/r.git",
        ref: { tag: "v1.2.0" },
        interval: "1m30s",
        prune: false,
        pruneGuard: { maxPercent: 10 },
        targetNamespace: "prod",
        secretRef: { name: "git" },
        decryption: { provider: "sops", secretRef: { name: "age" } },
        dependsOn: [{ name: "infra" }, { name: "crds", namespace: "platform" }],
      }),
    );
    expect(spec).toMatchObject({
      ref: { kind: "tag", name: "v1.2.0" },
      intervalMs: 90_000,
      prune: false,
      pruneMaxPercent: 10,
      targetNamespace: "prod",
      secretName: "git",
      decryption: true,
      decryptionSecretName: "age",
      dependsOn: [
        { namespace: "team", name: "infra" },
        { namespace: "platform", name: "crds" },
      ],
    });
  });

  it("refuses what no retry can fix, with TerminalError naming the field", () => {
    expect(() => parseGitSyncSpec(gs({}))).toThrow(
      new TerminalError("spec.url is required unless spec.helm.chart names the chart"),
    );
    const chart = { repoURL: "https://charts.example", name: "web", version: "1.2.3" };
    expect(parseGitSyncSpec(gs({ helm: { chart } })).url).toBeUndefined();
    expect(() => parseGitSyncSpec(gs({ helm: { chart, valueFiles: ["prod.yaml"] } }))).toThrow(
      /spec.helm.valueFiles are read from spec.url's repository/,
    );
    expect(() =>
      parseGitSyncSpec(gs({ url: "https://h/r", ref: { branch: "a", tag: "b" } })),
    ).toThrow("spec.ref sets branch and tag: set only one");
    expect(() => parseGitSyncSpec(gs({ url: "https://h/r", interval: "10ms" }))).toThrow(
      /spec.interval "10ms" must be at least 1s/,
    );
    expect(() => parseGitSyncSpec(gs({ url: "ext::sh -c id" }))).toThrow(
      expect.objectContaining({ code: ErrorCodes.GIT_URL_INVALID }),
    );
  });

  it("parses Go durations", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1h2m3s")).toBe(3_723_000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(parseDuration("5")).toBeUndefined();
    expect(parseDuration("1m x")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
  });

  it("writes revisions as Flux does and reads the commit back", () => {
    const id = "a".repeat(40);
    expect(formatRevision({ kind: "branch", name: "main" }, id)).toBe(`main@sha1:${id}`);
    expect(formatRevision({ kind: "commit", name: id }, id)).toBe(`sha1:${id}`);
    expect(commitOf(`v1@sha1:${id}`)).toBe(id);
    expect(commitOf(undefined)).toBeUndefined();
  });
});
