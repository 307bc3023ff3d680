/**
 * `gitops-guard audit list|tail|verify|export`: reads the tamper-evident journal from the
 * state directory (out of a cluster) or from the ops server's /api/v1/journal.
 */
import { type Command, Option } from "commander";
import type { CliOutput, ProgramDeps } from "./program.js";

export interface AuditSourceFlags {
  readonly stateDir?: string;
  readonly server?: string;
  readonly kubeconfig?: string;
}

export interface AuditListFlags extends AuditSourceFlags {
  readonly type?: string;
  readonly namespace?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly user?: string;
  readonly since?: string;
  readonly after?: string;
  readonly limit?: string;
  readonly output: "table" | "json";
}

function auditDeps(deps: ProgramDeps): { out: CliOutput; env: ProgramDeps["env"] } {
  const out = deps.output ?? {
    writeOut: (text) => process.stdout.write(text),
    writeErr: (text) => process.stderr.write(text),
  };
  return { out, env: deps.env };
}

function withSource(command: Command): Command {
  return command
    .option("--state-dir <dir>", "the service's state directory (holds journal.db)")
    .option("--server <url>", "the ops server, e.g. http://127.0.0.1:8080 (kubectl port-forward)")
    .option(
      "--kubeconfig <file>",
      "with --server: whose bearer token to send (default: KUBECONFIG, ~/.kube/config)",
    );
}

function withFilters(command: Command): Command {
  return command
    .option("--type <type>", "record type, e.g. drift-detected, break-glass")
    .option("--namespace <ns>", "object namespace")
    .option("--kind <kind>", "object kind")
    .option("--name <name>", "object name")
    .option("--user <name>", "who made the change (exact user name)")
    .option("--since <time|age>", "only records since an RFC 3339 time or an age: 30m, 12h, 7d")
    .option("--after <seq>", "only records after this sequence number")
    .option("--limit <n>", "at most this many records", "100")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "json"])
        .default("table"),
    );
}

export function addAuditCommand(program: Command, deps: ProgramDeps): void {
  const audit = program
    .command("audit")
    .description("Read and check the audit journal: who changed what, when.");
  withFilters(
    withSource(audit.command("list").description("List journal records, oldest first.")),
  ).action(async (flags: AuditListFlags) => {
    const { runList } = await import("./audit-run.js");
    await runList(flags, auditDeps(deps));
  });
  withSource(
    audit
      .command("tail")
      .description("Print the newest records, then follow new ones until Ctrl-C."),
  )
    .option("-n, --lines <n>", "how many of the newest records first", "10")
    .option("--interval <seconds>", "how often to look for new records", "2")
    .action(async (flags: AuditSourceFlags & { lines: string; interval: string }) => {
      const { runTail } = await import("./audit-run.js");
      await runTail(flags, auditDeps(deps));
    });
  withSource(
    audit
      .command("verify")
      .description("Check the hash chain; name the first changed, removed or moved record."),
  )
    .option("--anchor <file>", "an export whose last line holds a chain head kept elsewhere")
    .action(async (flags: AuditSourceFlags & { anchor?: string }) => {
      const { runVerify } = await import("./audit-run.js");
      await runVerify(flags, auditDeps(deps));
    });
  withSource(
    audit.command("export").description("Write every record as a JSON line, then the chain head."),
  ).action(async (flags: AuditSourceFlags) => {
    const { runExport } = await import("./audit-run.js");
    await runExport(flags, auditDeps(deps));
  });
}
