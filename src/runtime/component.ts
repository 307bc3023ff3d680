import type { Router } from "express";
import { ErrorCodes, GuardError, errorMessage, isGuardError } from "../errors.js";
import type { Clock } from "./clock.js";

/**
 * What the composition root runs. A component owns its informers, queues and servers; main.ts
 * only starts it, reports its readiness and stops it.
 */
export interface Component {
  readonly name: string;
  /** Leader-only components run while this replica holds the controller lease. */
  readonly leaderOnly: boolean;
  /** Runs until signal aborts, then cleans up and resolves. Rejects only on a fatal error;
   * rejecting, or resolving before signal aborts, stops the whole process (see Supervisor). */
  run(signal: AbortSignal): Promise<void>;
  /** Named readiness checks, such as "informer:secrets": true once that cache has synced. */
  readiness(): Readonly<Record<string, boolean>>;
  /** Read-only endpoints mounted on the ops server (the auditor's journal API). */
  readonly routes?: () => Router;
}

/** The first failure of a supervised run: what failed, and the error the run ends with. */
export interface ComponentFailure {
  /** A component's name, or "leader-election". */
  readonly component: string;
  readonly error: GuardError;
}

export interface SupervisorOptions {
  /** Stops everything from outside (SIGTERM, a test). */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** How long stopping may take once asked, given the first failure (if any). */
  readonly graceMs: (failure: ComponentFailure | undefined) => number;
  /** Told of the first failure, once, before anything else is told to stop. */
  readonly onFailure?: (failure: ComponentFailure) => void;
  /** Told of failures after the first (components failing while they stop), for logs. */
  readonly onLaterFailure?: (failure: ComponentFailure) => void;
}

/** A component's failure as the error the process exits with: one stable code, its name first. */
export function componentFailed(name: string, cause: unknown): GuardError {
  const code = isGuardError(cause) ? `${cause.code}: ` : "";
  const message = `component ${name} failed: ${code}${errorMessage(cause)}`;
  return new GuardError(ErrorCodes.COMPONENT_FAILED, message, {
    cause,
    details: { component: name },
  });
}

/**
 * What a controller manager does with its runnables: the first one that fails (its run()
 * rejects, or resolves without being asked to stop) stops all the others, and is the error the
 * whole run ends with. A half-dead process that keeps its Lease and stays Ready would hold off
 * the standby that could do the work; exiting hands the work over.
 */
export class Supervisor {
  /** Aborts on the outside signal or at the first failure (its reason is then the error). */
  readonly signal: AbortSignal;
  private readonly failed = new AbortController();
  private readonly options: SupervisorOptions;
  private first: ComponentFailure | undefined;
  private readonly running = new Set<string>();

  constructor(options: SupervisorOptions) {
    this.options = options;
    this.signal = AbortSignal.any([options.signal, this.failed.signal]);
  }

  /** The first failure, once there was one. */
  failure(): ComponentFailure | undefined {
    return this.first;
  }

  /** Runs one component until signal aborts; never rejects: a failure is recorded instead. */
  async run(component: Component, signal: AbortSignal): Promise<void> {
    this.running.add(component.name);
    try {
      await component.run(signal);
    } catch (err: unknown) {
      this.fail(component.name, componentFailed(component.name, err));
      return;
    } finally {
      this.running.delete(component.name);
    }
    if (!signal.aborted) {
      const stopped = new Error("it stopped without being asked to");
      this.fail(component.name, componentFailed(component.name, stopped));
    }
  }

  /** Records a failure; the first one stops everything. */
  fail(component: string, error: GuardError): void {
    const failure = { component, error };
    if (this.first !== undefined) {
      this.options.onLaterFailure?.(failure);
      return;
    }
    this.first = failure;
    this.options.onFailure?.(failure);
    this.failed.abort(error);
  }

  /**
   * Waits for work (the runs) to end: without limit while running, and for graceMs once the
   * signal aborts. Resolves with the components still running after that, left behind: a
   * component stuck on a request to an API server that is down must not keep the process
   * from exiting. work must not reject.
   */
  async waitFor(work: Promise<unknown>): Promise<string[]> {
    const graceOver = new AbortController();
    let cancel = (): void => undefined;
    const startGrace = (): void => {
      cancel = this.options.clock.setTimer(() => {
        graceOver.abort();
      }, this.options.graceMs(this.first));
    };
    this.signal.addEventListener("abort", startGrace, { once: true });
    if (this.signal.aborted) startGrace();
    const over = new Promise<"over">((resolve) => {
      graceOver.signal.addEventListener("abort", () => {
        resolve("over");
      });
    });
    try {
      const ended = await Promise.race([work.then(() => "ended" as const), over]);
      return ended === "ended" ? [] : [...this.running];
    } finally {
      this.signal.removeEventListener("abort", startGrace);
      cancel();
    }
  }

  /** Throws the first failure's error, if any: the outcome once everything has stopped. */
  throwIfFailed(): void {
    if (this.first !== undefined) throw this.first.error;
  }
}
