// The diff of one object: server-owned fields are not noise, a Secret's values never show.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/kube/objects.js";
import { objectChange } from "../../src/reconciler/preview/changes.js";

const cm = (v: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "settings", namespace: "apps", ...extra },
  data: { v },
});

const secret = (
  data: Record<string, string>,
  annotations?: Record<string, string>,
): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name: "db",
    namespace: "apps",
    ...(annotations === undefined ? {} : { annotations }),
  },
  data: Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
  ),
});

describe("objectChange", () => {
  it("ignores what the server owns: managedFields, resourceVersion, uid, status", () => {
    const live = cm("1", { resourceVersion: "7", uid: "u", managedFields: [{ manager: "x" }] });
    const next = { ...cm("1", { resourceVersion: "8", generation: 2 }), status: { x: 1 } };
    expect(objectChange(live, next)).toEqual({
      id: "ConfigMap/apps/settings",
      action: "unchanged",
      patch: "",
    });
  });

  it("shows a changed value as a unified diff, and an absent object as a create", () => {
    const update = objectChange(cm("1"), cm("2"));
    expect(update.action).toBe("update");
    expect(update.patch).toContain("--- live/ConfigMap/apps/settings");
    expect(update.patch).toContain("+++ git/ConfigMap/apps/settings");
    expect(update.patch).toContain('-  v: "1"');
    expect(update.patch).toContain('+  v: "2"');
    const create = objectChange(undefined, cm("1"));
    expect(create.action).toBe("create");
    expect(create.patch).toContain('+  v: "1"');
  });

  it("never shows a Secret's values, and marks which ones change", () => {
    const last = JSON.stringify({ data: { password: "aHVudGVyMg==" } });
    const live = secret(
      { password: "hunter2", user: "admin" },
      { "kubectl.kubernetes.io/last-applied-configuration": last },
    );
    const next = secret({ password: "correct horse", user: "admin", token: "t0k3n" });
    const { action, patch } = objectChange(live, next);
    expect(action).toBe("update");
    expect(patch).toContain('-  password: "*** (before)"');
    expect(patch).toContain('+  password: "*** (after)"');
    expect(patch).toContain('+  token: "***"');
    expect(patch).toContain('   user: "***"');
    for (const value of ["hunter2", "correct horse", "t0k3n", "admin", "aHVudGVyMg"]) {
      expect(patch).not.toContain(value);
      expect(patch).not.toContain(Buffer.from(value).toString("base64"));
    }
  });
});
