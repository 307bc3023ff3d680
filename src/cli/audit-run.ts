import { realClock } from "../runtime/clock.js";
import { sinceTime } from "./audit-since.js";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { ChainHead, JournalRecord } from "../auditor/journal/record.js";
import type { JournalQuery } from "../auditor/journal/store.js";
import type { Environment } from "../config.js";
import { ErrorCodes, GuardError, isGuardError } from "../errors.js";
import type { AuditListFlags, AuditSourceFlags } from "./audit.js";
import { openJournalSource, type CredentialsLoader } from "./audit-source.js";
import { kubeconfigFiles } from "./kubeconfig.js";
import type { CliOutput } from "./program.js";

/** What the audit commands take from outside: where output goes, and the environment. */
export interface AuditDeps {
  readonly out: CliOutput;
  readonly env: Environment;
}

/**
 * The reader's credentials for --server, found as kubectl finds them: --kubeconfig, else
 * KUBECONFIG, else ~/.kube/config, else the pod's service account. No kubeconfig at all means
 * no credentials (the server then says it wants a token); one named and unreadable is an error.
 */
function credentialsOf(flags: AuditSourceFlags, env: Environment): CredentialsLoader {
  return async () => {
    let files: readonly string[] | undefined;
    try {
      files = kubeconfigFiles(flags.kubeconfig, env);
    } catch (err: unknown) {
      if (isGuardError(err, ErrorCodes.KUBECONFIG_INVALID)) return undefined;
      throw err;
    }
    const named = (flags.kubeconfig ?? "") !== "" || (env.KUBECONFIG ?? "") !== "";
    if (!named && files?.every((file) => !existsSync(file)) === true) return undefined;
    const { bearerCredentials } = await import("../kube/bearer-credentials.js");
    return bearerCredentials(files);
  };
}

function sourceOf(flags: AuditSourceFlags, env: Environment): ReturnType<typeof openJournalSource> {
  return openJournalSource({
    ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }),
    ...(flags.server === undefined
      ? {}
      : { server: flags.server, credentials: credentialsOf(flags, env) }),
  });
}

function whole(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value))
    throw new GuardError(
      ErrorCodes.CONFIG_INVALID,
      `${flag} must be a whole number, not ${JSON.stringify(value)}`,
    );
  return Number(value);
}

function queryOf(flags: AuditListFlags): JournalQuery {
  const query: Record<string, string | number> = {};
  const pairs: [string, string | number | undefined][] = [
    ["type", flags.type],
    ["namespace", flags.namespace],
    ["kind", flags.kind],
    ["name", flags.name],
    ["username", flags.user],
    ["since", flags.since === undefined ? undefined : sinceTime(flags.since, realClock().now())],
    ["afterSeq", whole("--after", flags.after)],
    ["limit", whole("--limit", flags.limit)],
  ];
  for (const [key, value] of pairs) if (value !== undefined) query[key] = value;
  return query;
}

// Records whose message says what happened: a heal's duration, the policy that denied, the
// SealedSecret and key behind a Secret, a key's fingerprint and validity.
const MESSAGE_SHOWN: ReadonlySet<string> = new Set([
  "drift-healed",
  "admission-denied",
  "secret-materialised",
  "key-rotated",
]);

function extraOf(r: JournalRecord): string {
  const reason = r.reason === undefined ? [] : [`reason=${r.reason}`];
  const message = r.message !== undefined && MESSAGE_SHOWN.has(r.type) ? [r.message] : [];
  return [...reason, ...message].map((part) => `  ${part}`).join("");
}

/** One line a record: when, what, which object, who, which fields. */
export function formatRecord(r: JournalRecord): string {
  const o = r.object;
  const object =
    o === undefined
      ? "-"
      : `${o.kind}/${o.namespace === undefined ? "" : `${o.namespace}/`}${o.name}`;
  const fields = (r.diff ?? []).map((d) => d.path).join(",") || "-";
  return `${String(r.seq).padStart(6)}  ${r.time}  ${r.type.padEnd(19)}  ${object}  ${whoOf(r)}  ${fields}${extraOf(r)}`;
}

/**
 * A change nobody can be named for says so; a denial always names its user; a heal, a policy
 * edit or a Secret written by the controller names its field manager if known.
 */
function whoOf(r: JournalRecord): string {
  if (r.user !== undefined) return r.user.username;
  if (r.type === "drift-detected" || r.type === "break-glass") return "(unattributed)";
  const managers = r.fieldManagers ?? [];
  return managers.length === 0 ? "-" : managers.join(",");
}

export async function runList(flags: AuditListFlags, { out, env }: AuditDeps): Promise<void> {
  const source = sourceOf(flags, env);
  try {
    const { items } = await source.page(queryOf(flags));
    out.writeOut(
      flags.output === "json"
        ? `${JSON.stringify(items, null, 2)}\n`
        : items.map((r) => `${formatRecord(r)}\n`).join(""),
    );
  } finally {
    source.close();
  }
}

export async function runTail(
  flags: AuditSourceFlags & { lines: string; interval: string },
  { out, env }: AuditDeps,
): Promise<void> {
  const lines = whole("--lines", flags.lines) ?? 10;
  const intervalMs = (whole("--interval", flags.interval) ?? 2) * 1000;
  const source = sourceOf(flags, env);
  const stop = new AbortController();
  process.once("SIGINT", () => {
    stop.abort();
  });
  try {
    const { head } = await source.page({ limit: 1 });
    let afterSeq = Math.max(0, head.seq - lines);
    while (!stop.signal.aborted) {
      const { items } = await source.page({ afterSeq, limit: 1000 });
      for (const r of items) out.writeOut(`${formatRecord(r)}\n`);
      afterSeq = items.at(-1)?.seq ?? afterSeq;
      await sleep(intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
    }
  } finally {
    source.close();
  }
}

function readAnchor(file: string): ChainHead {
  const last = readFileSync(file, "utf8").trim().split("\n").at(-1) ?? "";
  const parsed = JSON.parse(last) as { head?: ChainHead };
  if (
    parsed.head === undefined ||
    typeof parsed.head.seq !== "number" ||
    typeof parsed.head.hash !== "string"
  ) {
    throw new GuardError(
      ErrorCodes.JOURNAL_INVALID,
      `${file}: the last line holds no chain head ({"head":{"seq":N,"hash":"..."}})`,
    );
  }
  return parsed.head;
}

export async function runVerify(
  flags: AuditSourceFlags & { anchor?: string },
  { out, env }: AuditDeps,
): Promise<void> {
  const source = sourceOf(flags, env);
  try {
    const result = await source.verify(
      flags.anchor === undefined ? undefined : readAnchor(flags.anchor),
    );
    if (!result.ok) {
      throw new GuardError(
        ErrorCodes.JOURNAL_INVALID,
        `journal verification failed at record ${String(result.seq)} (${result.problem}): ${result.message}`,
      );
    }
    out.writeOut(
      `journal OK: ${String(result.count)} records, head ${String(result.head.seq)}:${result.head.hash}\n`,
    );
  } finally {
    source.close();
  }
}

export async function runExport(flags: AuditSourceFlags, { out, env }: AuditDeps): Promise<void> {
  const source = sourceOf(flags, env);
  try {
    let afterSeq = 0;
    let head: ChainHead = { seq: 0, hash: "0".repeat(64) };
    for (;;) {
      const page = await source.page({ afterSeq, limit: 10_000 });
      for (const r of page.items) out.writeOut(`${JSON.stringify(r)}\n`);
      head = page.items.at(-1) ?? head;
      if (page.items.length < 10_000) break;
      afterSeq = head.seq;
    }
    out.writeOut(`${JSON.stringify({ head: { seq: head.seq, hash: head.hash } })}\n`);
  } finally {
    source.close();
  }
}
