import { authorizationHeader, type GitCredentials } from "./credentials.js";

/**
 * The whole environment of a git child process, built here and never inherited: git sees no
 * user or system config, no credential helper, no terminal to prompt on, and only the transports
 * a GitSync may use (never ext::, which runs commands). Pure: files are written by the caller.
 */
export interface GitEnvInput {
  readonly creds: GitCredentials;
  readonly url: string;
  /** PATH for git and ssh (the product's config, not the process's environment). */
  readonly searchPath: string;
  /** An empty folder of ours: git reads $HOME/.gitconfig, which must not be the user's. */
  readonly homeDir: string;
  /** For SSH: where the caller wrote the identity and known_hosts files (mode 0600). */
  readonly sshFiles?: { readonly identity: string; readonly knownHosts: string };
}

/** Single-quotes a path for the shell git runs GIT_SSH_COMMAND with. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** scheme://host[:port]/ of an HTTP(S) URL: the scope of the Authorization header. */
export function httpOrigin(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
    return `${parsed.protocol}//${parsed.host}/`;
  } catch {
    return undefined;
  }
}

function sshCommand(files: { readonly identity: string; readonly knownHosts: string }): string {
  return [
    "ssh",
    "-F /dev/null",
    `-i ${shellQuote(files.identity)}`,
    "-o IdentitiesOnly=yes",
    `-o UserKnownHostsFile=${shellQuote(files.knownHosts)}`,
    "-o GlobalKnownHostsFile=/dev/null",
    "-o StrictHostKeyChecking=yes",
    "-o BatchMode=yes",
    "-o ConnectTimeout=15",
  ].join(" ");
}

export function gitEnvironment(input: GitEnvInput): Record<string, string> {
  const env: Record<string, string> = {
    PATH: input.searchPath,
    HOME: input.homeDir,
    LANG: "C",
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ALLOW_PROTOCOL: "file:http:https:ssh",
    // Give up on a stalled transfer instead of holding a worker for ever.
    GIT_HTTP_LOW_SPEED_LIMIT: "1000",
    GIT_HTTP_LOW_SPEED_TIME: "30",
    GIT_SSH_COMMAND: "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes",
  };
  const header = authorizationHeader(input.creds);
  const origin = httpOrigin(input.url);
  if (header !== undefined && origin !== undefined) {
    // Config through the environment, not argv, so the token never shows in `ps`; scoped to the
    // repository's origin so a redirect to another host does not receive it.
    env["GIT_CONFIG_COUNT"] = "1";
    env["GIT_CONFIG_KEY_0"] = `http.${origin}.extraHeader`;
    env["GIT_CONFIG_VALUE_0"] = `Authorization: ${header}`;
  }
  if (input.sshFiles !== undefined) env["GIT_SSH_COMMAND"] = sshCommand(input.sshFiles);
  return env;
}
