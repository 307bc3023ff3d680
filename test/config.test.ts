import { delimiter } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadConfig,
  type Config,
  type ConfigProblem,
  type LoadConfigInput,
} from "../src/config.js";
import { ErrorCodes, GuardError } from "../src/errors.js";

function load(input: Partial<LoadConfigInput> = {}): Config {
  return loadConfig({ flags: {}, env: {}, hostname: "node-1", ...input });
}

/** The GuardError loadConfig throws for this input. */
function failure(input: Partial<LoadConfigInput>): GuardError {
  try {
    load(input);
  } catch (err: unknown) {
    if (err instanceof GuardError) return err;
    throw err;
  }
  throw new Error("loadConfig accepted invalid input");
}

function problems(err: GuardError): ConfigProblem[] {
  return err.details.errors as ConfigProblem[];
}

describe("loadConfig defaults", () => {
  it("fills every field when nothing is given", () => {
    expect(load()).toEqual({
      components: ["admission", "secrets", "reconciler", "auditor"],
      namespace: "gitops-guard-system",
      webhookListen: "0.0.0.0:9443",
      opsListen: "0.0.0.0:8080",
      stateDir: "/var/lib/gitops-guard",
      logLevel: "info",
      identity: "node-1",
      leaderElection: {
        enabled: true,
        leaseName: "gitops-guard-controller",
        leaseDurationSeconds: 15,
        renewDeadlineSeconds: 10,
        retryPeriodSeconds: 2,
      },
      impersonate: false,
      bitnamiSealedSecrets: false,
      unsealThreads: 2,
      kubeHttp2: true,
      auditWebhook: {},
      sopsKms: { ambientCredentials: false },
      allowFileUrls: false,
      serviceAccounts: {
        reconciler: "gitops-guard-reconciler",
        secrets: "gitops-guard-secrets",
        webhook: "gitops-guard-webhook",
      },
      reconciler: {
        workers: 4,
        applyConcurrency: 8,
        healWorkers: 4,
        gitTimeoutSeconds: 120,
        toolsPath: "/usr/local/bin:/usr/bin:/bin",
        healLoopThreshold: 3,
        healLoopWindowSeconds: 60,
        healBackoffSeconds: 2,
        healBackoffCapSeconds: 300,
      },
      secrets: { workers: 8, keyRenewPeriodHours: 720 },
    });
  });

  it("has no kubeconfig key in a cluster, and impersonates once a kubeconfig is given", () => {
    expect("kubeconfig" in load()).toBe(false);
    const outside = load({ env: { KUBECONFIG: "/home/me/.kube/config" } });
    expect(outside.kubeconfig).toEqual(["/home/me/.kube/config"]);
    expect(outside.impersonate).toBe(true);
  });

  it("lets an explicit GITOPS_GUARD_IMPERSONATE override the kubeconfig-derived default", () => {
    const config = load({
      flags: { kubeconfig: "/k" },
      env: { GITOPS_GUARD_IMPERSONATE: "false" },
    });
    expect(config.impersonate).toBe(false);
  });

  it("returns a deeply frozen object", () => {
    const config = load();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.leaderElection)).toBe(true);
    expect(Object.isFrozen(config.serviceAccounts)).toBe(true);
    expect(Object.isFrozen(config.components)).toBe(true);
    expect(() => {
      (config.leaderElection as { enabled: boolean }).enabled = false;
    }).toThrow(TypeError);
    expect(() => {
      (config.components as string[]).push("admission");
    }).toThrow(TypeError);
  });
});

describe("loadConfig precedence", () => {
  it("takes a flag over env over the default", () => {
    const env = { GITOPS_GUARD_WEBHOOK_LISTEN: "127.0.0.1:9000" };
    expect(load().webhookListen).toBe("0.0.0.0:9443");
    expect(load({ env }).webhookListen).toBe("127.0.0.1:9000");
    expect(load({ env, flags: { webhookListen: "127.0.0.1:9001" } }).webhookListen).toBe(
      "127.0.0.1:9001",
    );
  });

  it("reads the identity from --identity, GITOPS_GUARD_IDENTITY, POD_NAME, then the host name", () => {
    const env = { GITOPS_GUARD_IDENTITY: "from-env", POD_NAME: "pod-7" };
    expect(load({ flags: { identity: "from-flag" }, env }).identity).toBe("from-flag");
    expect(load({ env }).identity).toBe("from-env");
    expect(load({ env: { POD_NAME: "pod-7" } }).identity).toBe("pod-7");
    expect(load({ hostname: "laptop" }).identity).toBe("laptop");
  });

  it("prefers GITOPS_GUARD_NAMESPACE, then the downward API's POD_NAMESPACE", () => {
    expect(load({ env: { POD_NAMESPACE: "guard" } }).namespace).toBe("guard");
    const both = { POD_NAMESPACE: "guard", GITOPS_GUARD_NAMESPACE: "other" };
    expect(load({ env: both }).namespace).toBe("other");
    expect(load({ env: both, flags: { namespace: "third" } }).namespace).toBe("third");
  });

  it("prefers GITOPS_GUARD_KUBECONFIG over KUBECONFIG", () => {
    const env = { KUBECONFIG: "/a", GITOPS_GUARD_KUBECONFIG: "/b" };
    expect(load({ env }).kubeconfig).toEqual(["/b"]);
  });

  it("reads KUBECONFIG as kubectl does, a list of files; --kubeconfig names one file", () => {
    const list = ["/a", "", "/b"].join(delimiter);
    expect(load({ env: { KUBECONFIG: list } }).kubeconfig).toEqual(["/a", "/b"]);
    expect(load({ env: { GITOPS_GUARD_KUBECONFIG: list } }).kubeconfig).toEqual(["/a", "/b"]);
    expect(load({ env: { KUBECONFIG: list }, flags: { kubeconfig: "/k" } }).kubeconfig).toEqual([
      "/k",
    ]);
    // Only delimiters name no file: an error, not a silent switch to the in-cluster account.
    expect(failure({ env: { KUBECONFIG: delimiter } }).message).toContain(
      `kubeconfig "${delimiter}" (from env KUBECONFIG) must not be empty`,
    );
  });

  it("splits component lists and coerces numbers and booleans from strings", () => {
    const config = load({
      env: {
        GITOPS_GUARD_COMPONENTS: " secrets , auditor ",
        GITOPS_GUARD_LEADER_ELECTION_ENABLED: "false",
        GITOPS_GUARD_LEADER_ELECTION_LEASE_DURATION_SECONDS: "30",
        GITOPS_GUARD_LEADER_ELECTION_RENEW_DEADLINE_SECONDS: "20",
        GITOPS_GUARD_LEADER_ELECTION_RETRY_PERIOD_SECONDS: "5",
      },
    });
    expect(config.components).toEqual(["secrets", "auditor"]);
    expect(config.leaderElection).toMatchObject({
      enabled: false,
      leaseDurationSeconds: 30,
      renewDeadlineSeconds: 20,
      retryPeriodSeconds: 5,
    });
  });

  it("reads the SOPS KMS settings, AWS's endpoint variables after gitops-guard's own", () => {
    const config = load({
      env: {
        GITOPS_GUARD_SOPS_KMS_ENDPOINT: "https://kms.vpce.example",
        AWS_ENDPOINT_URL_KMS: "http://127.0.0.1:4566",
        AWS_ENDPOINT_URL_STS: "http://127.0.0.1:4567",
        GITOPS_GUARD_SOPS_KMS_AMBIENT_CREDENTIALS: "true",
      },
    });
    expect(config.sopsKms).toEqual({
      endpoint: "https://kms.vpce.example",
      stsEndpoint: "http://127.0.0.1:4567",
      ambientCredentials: true,
    });
  });

  it("reads the tenancy settings: the default account, and file:// URLs only when allowed", () => {
    const flagged = load({ flags: { defaultServiceAccount: "default", allowFileUrls: true } });
    expect(flagged.defaultServiceAccount).toBe("default");
    expect(flagged.allowFileUrls).toBe(true);
    const fromEnv = load({
      env: {
        GITOPS_GUARD_DEFAULT_SERVICE_ACCOUNT: "deployer",
        GITOPS_GUARD_ALLOW_FILE_URLS: "false",
      },
    });
    expect(fromEnv.defaultServiceAccount).toBe("deployer");
    expect(fromEnv.allowFileUrls).toBe(false);
    expect(() => load({ flags: { defaultServiceAccount: "Not_An_Account" } })).toThrow(
      /defaultServiceAccount "Not_An_Account" \(from flag --default-service-account\) must be a DNS-1123 subdomain/,
    );
  });

  it("takes --no-leader-election (false) over env true", () => {
    const env = { GITOPS_GUARD_LEADER_ELECTION_ENABLED: "true" };
    expect(load({ env, flags: { leaderElection: false } }).leaderElection.enabled).toBe(false);
  });

  it("treats an empty variable as unset and ignores variables without the prefix", () => {
    const config = load({ env: { GITOPS_GUARD_OPS_LISTEN: "", HOME: "/root", PATH: "/bin" } });
    expect(config.opsListen).toBe("0.0.0.0:8080");
  });

  it("accepts host names and bracketed IPv6 addresses", () => {
    expect(load({ flags: { opsListen: "[::1]:0" } }).opsListen).toBe("[::1]:0");
    expect(load({ flags: { opsListen: "guard.example.com:65535" } }).opsListen).toBe(
      "guard.example.com:65535",
    );
  });
});

interface InvalidCase {
  readonly name: string;
  readonly input: Partial<LoadConfigInput>;
  readonly field: string;
  readonly source: string;
  /** The whole problem sentence, as in the thrown message. */
  readonly message: string;
}

const invalidCases: readonly InvalidCase[] = [
  {
    name: "KMS endpoint that is not a URL, from AWS's own variable",
    input: { env: { AWS_ENDPOINT_URL_KMS: "kms.local:4566" } },
    field: "sopsKms.endpoint",
    source: "env AWS_ENDPOINT_URL_KMS",
    message:
      'sopsKms.endpoint "kms.local:4566" (from env AWS_ENDPOINT_URL_KMS) must be an http:// or https:// URL',
  },
  {
    name: "webhookListen from env",
    input: { env: { GITOPS_GUARD_WEBHOOK_LISTEN: "abc" } },
    field: "webhookListen",
    source: "env GITOPS_GUARD_WEBHOOK_LISTEN",
    message:
      'webhookListen "abc" (from env GITOPS_GUARD_WEBHOOK_LISTEN) must be host:port with a port in 0-65535',
  },
  {
    name: "opsListen port out of range",
    input: { flags: { opsListen: "127.0.0.1:65536" } },
    field: "opsListen",
    source: "flag --ops-listen",
    message:
      'opsListen "127.0.0.1:65536" (from flag --ops-listen) must be host:port with a port in 0-65535',
  },
  {
    name: "opsListen with a bad IPv4 address",
    input: { flags: { opsListen: "999.1.1.1:80" } },
    field: "opsListen",
    source: "flag --ops-listen",
    message:
      'opsListen "999.1.1.1:80" (from flag --ops-listen) must be host:port with a port in 0-65535',
  },
  {
    name: "unknown component",
    input: { flags: { components: "admission,firewall" } },
    field: "components",
    source: "flag --components",
    message:
      'components "admission,firewall" (from flag --components) must be one of admission, secrets, reconciler, auditor',
  },
  {
    name: "repeated component",
    input: { env: { GITOPS_GUARD_COMPONENTS: "secrets,secrets" } },
    field: "components",
    source: "env GITOPS_GUARD_COMPONENTS",
    message:
      'components "secrets,secrets" (from env GITOPS_GUARD_COMPONENTS) must not name an item twice',
  },
  {
    name: "no components",
    input: { flags: { components: " , " } },
    field: "components",
    source: "flag --components",
    message: 'components " , " (from flag --components) must not be empty',
  },
  {
    name: "namespace that is not a DNS label",
    input: { env: { POD_NAMESPACE: "Guard_NS" } },
    field: "namespace",
    source: "env POD_NAMESPACE",
    message:
      "namespace \"Guard_NS\" (from env POD_NAMESPACE) must be a DNS-1123 label (lower-case letters, digits and '-', at most 63)",
  },
  {
    name: "empty state dir",
    input: { flags: { stateDir: "" } },
    field: "stateDir",
    source: "flag --state-dir",
    message: 'stateDir "" (from flag --state-dir) must not be empty',
  },
  {
    name: "log level",
    input: { env: { GITOPS_GUARD_LOG_LEVEL: "loud" } },
    field: "logLevel",
    source: "env GITOPS_GUARD_LOG_LEVEL",
    message:
      'logLevel "loud" (from env GITOPS_GUARD_LOG_LEVEL) must be one of trace, debug, info, warn, error, fatal',
  },
  {
    name: "empty host name as identity",
    input: { hostname: "" },
    field: "identity",
    source: "hostname",
    message: 'identity "" (from hostname) must not be empty',
  },
  {
    name: "lease duration that is not a number",
    input: { env: { GITOPS_GUARD_LEADER_ELECTION_LEASE_DURATION_SECONDS: "15s" } },
    field: "leaderElection.leaseDurationSeconds",
    source: "env GITOPS_GUARD_LEADER_ELECTION_LEASE_DURATION_SECONDS",
    message:
      'leaderElection.leaseDurationSeconds "15s" (from env GITOPS_GUARD_LEADER_ELECTION_LEASE_DURATION_SECONDS) must be integer',
  },
  {
    name: "lease name",
    input: { env: { GITOPS_GUARD_LEADER_ELECTION_LEASE_NAME: "My Lease" } },
    field: "leaderElection.leaseName",
    source: "env GITOPS_GUARD_LEADER_ELECTION_LEASE_NAME",
    message:
      "leaderElection.leaseName \"My Lease\" (from env GITOPS_GUARD_LEADER_ELECTION_LEASE_NAME) must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')",
  },
  {
    name: "impersonate that is not a boolean",
    input: { env: { GITOPS_GUARD_IMPERSONATE: "maybe" } },
    field: "impersonate",
    source: "env GITOPS_GUARD_IMPERSONATE",
    message: 'impersonate "maybe" (from env GITOPS_GUARD_IMPERSONATE) must be boolean',
  },
  {
    name: "service account name",
    input: { env: { GITOPS_GUARD_SERVICE_ACCOUNTS_WEBHOOK: "Webhook" } },
    field: "serviceAccounts.webhook",
    source: "env GITOPS_GUARD_SERVICE_ACCOUNTS_WEBHOOK",
    message:
      "serviceAccounts.webhook \"Webhook\" (from env GITOPS_GUARD_SERVICE_ACCOUNTS_WEBHOOK) must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')",
  },
  {
    name: "renew deadline not below the lease duration",
    input: { env: { GITOPS_GUARD_LEADER_ELECTION_RENEW_DEADLINE_SECONDS: "15" } },
    field: "leaderElection.renewDeadlineSeconds",
    source: "env GITOPS_GUARD_LEADER_ELECTION_RENEW_DEADLINE_SECONDS",
    message:
      'leaderElection.renewDeadlineSeconds "15" (from env GITOPS_GUARD_LEADER_ELECTION_RENEW_DEADLINE_SECONDS) must be less than leaderElection.leaseDurationSeconds (15 from default)',
  },
  {
    name: "default retry period not below a lowered renew deadline",
    input: { env: { GITOPS_GUARD_LEADER_ELECTION_RENEW_DEADLINE_SECONDS: "2" } },
    field: "leaderElection.retryPeriodSeconds",
    source: "default",
    message:
      "leaderElection.retryPeriodSeconds (from default) must be less than leaderElection.renewDeadlineSeconds (2 from env GITOPS_GUARD_LEADER_ELECTION_RENEW_DEADLINE_SECONDS)",
  },
];

describe("loadConfig errors", () => {
  it.each(invalidCases)("names the field and its source: $name", (c) => {
    const err = failure(c.input);
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(err.message).toBe(`invalid configuration: ${c.message}`);
    expect(problems(err)).toEqual([{ field: c.field, source: c.source, message: c.message }]);
  });

  it("reports every bad field at once", () => {
    const err = failure({
      flags: { webhookListen: "abc" },
      env: { GITOPS_GUARD_LOG_LEVEL: "loud", GITOPS_GUARD_OPS_LISTEN: "x:y" },
    });
    expect(problems(err).map((p) => p.field)).toEqual(["webhookListen", "opsListen", "logLevel"]);
    expect(err.message).toContain('webhookListen "abc" (from flag --webhook-listen)');
    expect(err.message).toContain('opsListen "x:y" (from env GITOPS_GUARD_OPS_LISTEN)');
    expect(err.message).toContain('logLevel "loud" (from env GITOPS_GUARD_LOG_LEVEL)');
  });

  it("rejects an unknown GITOPS_GUARD_ variable without echoing its value", () => {
    const err = failure({ env: { GITOPS_GUARD_WEBHOOK_LISTN: "s3cr3t-token" } });
    expect(err.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(problems(err)).toEqual([
      {
        field: "GITOPS_GUARD_WEBHOOK_LISTN",
        source: "env GITOPS_GUARD_WEBHOOK_LISTN",
        message: "env GITOPS_GUARD_WEBHOOK_LISTN is not a known setting",
      },
    ]);
    expect(err.message).not.toContain("s3cr3t-token");
  });

  it("serves the audit webhook only with a certificate, a key and a token", () => {
    const err = failure({ env: { GITOPS_GUARD_AUDIT_WEBHOOK_LISTEN: "0.0.0.0:9444" } });
    expect(err.message).toContain("auditWebhook");
    expect(err.message).toMatch(/certFile/);
    const config = load({
      flags: {
        auditWebhookListen: "0.0.0.0:9444",
        auditWebhookCertFile: "/tls/tls.crt",
        auditWebhookKeyFile: "/tls/tls.key",
        auditWebhookTokenFile: "/token/token",
      },
    });
    expect(config.auditWebhook).toEqual({
      listen: "0.0.0.0:9444",
      certFile: "/tls/tls.crt",
      keyFile: "/tls/tls.key",
      tokenFile: "/token/token",
    });
  });

  it("rejects a flag it does not know", () => {
    const err = failure({ flags: { webhookListn: "127.0.0.1:1" } });
    expect(err.message).toBe("invalid configuration: flag --webhook-listn is not a known setting");
  });
});
