import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ChainHead, JournalRecord } from "../auditor/journal/record.js";
import { JOURNAL_FILE, JournalStore, type JournalQuery } from "../auditor/journal/store.js";
import { linksOf, verifyChain, type VerifyResult } from "../auditor/journal/verify.js";
import { ErrorCodes, GuardError, errorMessage } from "../errors.js";
import type { BearerCredentials } from "../kube/bearer-credentials.js";
import { realClock } from "../runtime/clock.js";

export interface JournalPage {
  readonly items: JournalRecord[];
  readonly head: ChainHead;
  readonly next?: number;
}

/** Where `gitops-guard audit` reads the journal: the file in a state directory, or the ops server. */
export interface JournalSource {
  page(query: JournalQuery): Promise<JournalPage>;
  verify(anchor?: ChainHead): Promise<VerifyResult>;
  close(): void;
}

function stateDirSource(dir: string): JournalSource {
  const path = join(dir, JOURNAL_FILE);
  // Opening would create an empty journal; a reader must not, and must say what is missing.
  if (!existsSync(path)) {
    throw new GuardError(
      ErrorCodes.JOURNAL_OPEN_FAILED,
      `no audit journal at ${path} (is --state-dir the directory the service runs with?)`,
    );
  }
  const store = JournalStore.open(path, realClock());
  return {
    page: (query) => {
      const items = store.list(query);
      const last = items.at(-1);
      return Promise.resolve({
        items,
        head: store.head(),
        ...(last === undefined ? {} : { next: last.seq }),
      });
    },
    verify: (anchor) => Promise.resolve(verifyChain(store.links(), anchor)),
    close: () => {
      store.close();
    },
  };
}

/** Who the journal reader is, as the kubeconfig says; undefined when there is no kubeconfig. */
export type CredentialsLoader = () => Promise<BearerCredentials | undefined>;

/** The part of the ops server's 403 body that is used: who the token belongs to. */
interface Refused {
  readonly user?: unknown;
}

/** The chart's role for journal readers; <release> is the Helm release's full name. */
const READER_HINT =
  "bind ClusterRole <release>-journal-reader to it (gitops-guard-journal-reader for the " +
  "release gitops-guard; the chart's value journal.readers does it)";

/** Names what is missing when the ops server answers 401 or 403. */
function accessDenied(
  origin: string,
  status: number,
  body: Refused,
  credentials: { readonly loaded?: BearerCredentials; readonly sent: boolean },
): GuardError {
  const { loaded, sent } = credentials;
  const at = `the journal at ${origin}`;
  let message: string;
  if (status === 403) {
    const user = typeof body.user === "string" ? body.user : (loaded?.user ?? "(unknown)");
    message = `${at} refused user ${user}: ${READER_HINT}`;
  } else if (loaded === undefined) {
    message = `${at} needs a bearer token the Kubernetes API server accepts, and there is no kubeconfig to take one from: give --kubeconfig`;
  } else if (!sent) {
    const cert = loaded.clientCertificate
      ? " (it has a client certificate, which only the API server itself can check)"
      : "";
    message = `${at} needs a bearer token the Kubernetes API server accepts, and kubeconfig user ${loaded.user} has none${cert}: use a kubeconfig with a token (kubectl create token ACCOUNT)`;
  } else {
    message = `${at} refused the token of kubeconfig user ${loaded.user}: the Kubernetes API server did not accept it (expired, or from another cluster?)`;
  }
  return new GuardError(ErrorCodes.JOURNAL_ACCESS_DENIED, message, { details: { status } });
}

async function send(url: URL, authorization: string | undefined): Promise<Response> {
  try {
    return await fetch(url, authorization === undefined ? {} : { headers: { authorization } });
  } catch (err: unknown) {
    throw new GuardError(
      ErrorCodes.JOURNAL_OPEN_FAILED,
      `cannot reach ${url.origin}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

function pageUrl(base: string, query: JournalQuery): URL {
  const url = new URL("/api/v1/journal", base);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(key === "username" ? "user" : key, String(value));
  }
  return url;
}

/**
 * The ops server's /api/v1/journal, read with the kubeconfig user's bearer token: the server
 * asks the API server who it is and whether RBAC lets it read the journal.
 */
function serverSource(base: string, loadCredentials: CredentialsLoader): JournalSource {
  let credentials: Promise<BearerCredentials | undefined> | undefined;
  const page = async (query: JournalQuery): Promise<JournalPage> => {
    const url = pageUrl(base, query);
    const loaded = await (credentials ??= loadCredentials());
    // Asked each time: exec plugins and projected token files hand out fresh tokens.
    const authorization = await loaded?.authorization();
    const res = await send(url, authorization);
    if (res.status === 401 || res.status === 403) {
      const body = (await res.json().catch(() => ({}))) as Refused;
      const sent = authorization !== undefined;
      throw accessDenied(url.origin, res.status, body, { ...(loaded ? { loaded } : {}), sent });
    }
    if (!res.ok)
      throw new GuardError(
        ErrorCodes.JOURNAL_OPEN_FAILED,
        `${url.href}: HTTP ${String(res.status)} ${await res.text()}`,
      );
    return (await res.json()) as JournalPage;
  };
  return {
    page,
    async verify(anchor) {
      // Read every page, then check the chain over the records as the server sent them.
      const records: JournalRecord[] = [];
      let afterSeq = 0;
      for (;;) {
        const next = await page({ afterSeq, limit: 10_000 });
        records.push(...next.items);
        if (next.next === undefined || next.items.length === 0) break;
        afterSeq = next.next;
      }
      return verifyChain(linksOf(records), anchor);
    },
    close: () => undefined,
  };
}

export interface JournalSourceOptions {
  readonly stateDir?: string;
  readonly server?: string;
  /** For --server: the reader's credentials; none are sent without it. */
  readonly credentials?: CredentialsLoader;
}

export function openJournalSource(opts: JournalSourceOptions): JournalSource {
  if (opts.server !== undefined)
    return serverSource(opts.server, opts.credentials ?? (() => Promise.resolve(undefined)));
  if (opts.stateDir !== undefined) return stateDirSource(opts.stateDir);
  throw new GuardError(
    ErrorCodes.CONFIG_INVALID,
    "say where the journal is: --state-dir DIR or --server URL",
  );
}
