/** The shape of gitops-guard's configuration; config.ts builds it from flags and environment. */
export const COMPONENTS = ["admission", "secrets", "reconciler", "auditor"] as const;
export type Component = (typeof COMPONENTS)[number];

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LeaderElectionConfig {
  readonly enabled: boolean;
  readonly leaseName: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
}

export interface ServiceAccountsConfig {
  readonly reconciler: string;
  readonly secrets: string;
  readonly webhook: string;
}

/** The auditor's HTTPS endpoint for the API server's audit webhook backend; off when no listen. */
export interface AuditWebhookConfig {
  readonly listen?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /** A file holding the bearer token the API server's audit webhook kubeconfig sends. */
  readonly tokenFile?: string;
}

/** The GitOps reconciler's settings (seconds here; the component takes milliseconds). */
export interface ReconcilerConfig {
  /** GitSyncs reconciled at once (one GitSync is never reconciled twice at once). */
  readonly workers: number;
  /** API requests one sync keeps in flight: server-side applies, prunes, health reads. */
  readonly applyConcurrency: number;
  /** Objects self-heal repairs at once (one object is never healed twice at once). */
  readonly healWorkers: number;
  /** How long one git command (fetch, clone) may take. */
  readonly gitTimeoutSeconds: number;
  /** Where git, ssh, kustomize and helm are looked up (a PATH of absolute folders). */
  readonly toolsPath: string;
  /** Heals undone by the same other field manager within healLoopWindowSeconds that make a fight. */
  readonly healLoopThreshold: number;
  readonly healLoopWindowSeconds: number;
  /** The first wait between heals in a fight, doubling with each further heal up to the cap. */
  readonly healBackoffSeconds: number;
  readonly healBackoffCapSeconds: number;
}

/** The SealedSecrets controller's settings. */
export interface SecretsConfig {
  /** SealedSecrets reconciled at once (different SealedSecrets). */
  readonly workers: number;
  /** A new sealing key this long after the newest became current; 0 disables renewal. */
  readonly keyRenewPeriodHours: number;
}

/** How the reconciler reaches AWS KMS for SOPS files (the CLI reads AWS's own variables). */
export interface SopsKmsConfig {
  /** KMS endpoint URL (an emulator, a VPC endpoint); absent: AWS's own. */
  readonly endpoint?: string;
  /** STS endpoint URL, for files that name a role; absent: AWS's own. */
  readonly stsEndpoint?: string;
  /** Lend the controller's own AWS identity to GitSyncs without a sops.aws-kms entry. */
  readonly ambientCredentials: boolean;
}

export interface Config {
  /**
   * The kubeconfig files, merged as kubectl merges them: --kubeconfig names one, KUBECONFIG
   * (or GITOPS_GUARD_KUBECONFIG) a list. Absent: use the in-cluster service account.
   */
  readonly kubeconfig?: readonly string[];
  readonly components: readonly Component[];
  readonly namespace: string;
  /** host:port of the admission webhook's HTTPS server. */
  readonly webhookListen: string;
  /** host:port of the ops server: /healthz, /readyz, /metrics. */
  readonly opsListen: string;
  readonly stateDir: string;
  readonly logLevel: LogLevel;
  /** Leader-election holder identity. */
  readonly identity: string;
  readonly leaderElection: LeaderElectionConfig;
  /** Each component acts as its own service account (out of a cluster). */
  readonly impersonate: boolean;
  readonly serviceAccounts: ServiceAccountsConfig;
  /** The secrets component also reconciles bitnami.com/v1alpha1 SealedSecrets. */
  readonly bitnamiSealedSecrets: boolean;
  /** Worker threads that open SealedSecrets (RSA); 0 opens them on the event loop. */
  readonly unsealThreads: number;
  /** HTTP/2 to the API server (HTTP/1.1 when false, or when the server offers no h2). */
  readonly kubeHttp2: boolean;
  readonly auditWebhook: AuditWebhookConfig;
  readonly sopsKms: SopsKmsConfig;
  /**
   * The service account (in the GitSync's own namespace) a GitSync without
   * spec.serviceAccountName acts as; absent: such GitSyncs act as the reconciler. Flux's
   * --default-service-account.
   */
  readonly defaultServiceAccount?: string;
  /** GitSyncs may name file:// repositories (the controller's own disk): tests and demos only. */
  readonly allowFileUrls: boolean;
  readonly reconciler: ReconcilerConfig;
  readonly secrets: SecretsConfig;
  /** The one namespace the secrets controller watches; absent: all namespaces. */
  readonly watchNamespace?: string;
  /**
   * Out of a cluster, the https://host[:port] the API server calls the webhook at (a host it
   * can reach); its host joins the serving certificate. Absent: this process's own address.
   */
  readonly webhookUrl?: string;
}

/** Option values the CLI parsed (commander's opts(), only those given on the command line). */
