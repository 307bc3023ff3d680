// Builds or finds every real third-party tool the tests use, one after another, before any
// test file starts: on a fresh machine several files would otherwise start the same Go build
// at once on two cores. Later runs only hash the pins (milliseconds).
import { ensureAllGoTools } from "./go-tools.js";
import { ensureMoto } from "./moto/moto-server.js";

export default function setup(): void {
  const started = performance.now();
  ensureAllGoTools();
  ensureMoto();
  const ms = Math.round(performance.now() - started);
  if (ms > 2000) process.stdout.write(`test tools ready in ${String(ms)} ms\n`);
}
