/** The renewal loop: a new key when the newest is renewPeriod old, checked at least hourly. */
import { errorMessage } from "../errors.js";
import type { Clock } from "../runtime/clock.js";
import type { Logger } from "../telemetry/log.js";
import { renewalDue, type KeyStore } from "./keys.js";

const MAX_SLEEP_MS = 3_600_000;
const RETRY_MS = 60_000;

export interface RenewLoopDeps {
  readonly keys: KeyStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly onRenewed: () => void;
}

/** How long to wait before the next check: until the key is due, capped to an hour. */
export function nextCheckIn(due: number | undefined, now: number): number {
  if (due === undefined) return MAX_SLEEP_MS;
  return Math.max(0, Math.min(due - now, MAX_SLEEP_MS));
}

async function renewOnce(deps: RenewLoopDeps): Promise<void> {
  const before = deps.keys.keyring.latest()?.fingerprint;
  try {
    if (await deps.keys.renewIfDue()) {
      deps.logger.info({ key: deps.keys.keyring.latest()?.fingerprint }, "sealing key renewed");
    }
    deps.onRenewed();
    // A due slot whose Secret exists but holds no readable active key must not spin.
    if (deps.keys.keyring.latest()?.fingerprint === before) {
      deps.logger.warn({ key: before }, "no newer key after renewal; retrying later");
      await deps.clock.sleep(RETRY_MS, deps.signal);
    }
  } catch (err: unknown) {
    deps.logger.warn({ err: errorMessage(err) }, "key renewal failed; retrying");
    await deps.clock.sleep(RETRY_MS, deps.signal);
  }
}

export async function renewLoop(deps: RenewLoopDeps): Promise<void> {
  const { keys, clock, signal } = deps;
  const stopped = (): boolean => signal.aborted;
  while (!stopped()) {
    const due = renewalDue(keys.keyring.latest(), keys.renewPeriodMs);
    const wait = nextCheckIn(due, clock.now());
    if (due === undefined || wait > 0) {
      await clock.sleep(wait === 0 ? MAX_SLEEP_MS : wait, signal);
      continue;
    }
    await renewOnce(deps);
  }
}
