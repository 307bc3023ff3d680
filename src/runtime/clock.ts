/**
 * Time as a dependency. Everything that reads the time or waits takes a Clock, so tests
 * drive time with test/helpers/fake-clock.ts instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls fn after ms; the returned function cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
  /** Resolves after ms, or at once when signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function realClock(): Clock {
  return {
    now: () => Date.now(),
    setTimer(fn, ms) {
      const handle = setTimeout(fn, Math.max(0, ms));
      return () => {
        clearTimeout(handle);
      };
    },
    sleep: (ms, signal) => sleepFor(ms, signal),
  };
}

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(handle);
      resolve();
    };
    const handle = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
