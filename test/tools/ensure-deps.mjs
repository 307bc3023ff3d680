// Runs before `npm test` and `npm run demo` (npm's pre-scripts) so that a fresh clone needs no
// separate install step: installs the locked packages when node_modules is missing or older
// than package-lock.json. Plain JavaScript, because it may run on the machine's older Node
// before the project's own Node 24 is installed.
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import process from "node:process";

const hidden = "node_modules/.package-lock.json";
const stale =
  !existsSync(hidden) || statSync(hidden).mtimeMs < statSync("package-lock.json").mtimeMs;
if (stale) {
  process.stderr.write("installing the locked npm packages (npm ci)...\n");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund"], { stdio: "inherit" });
}
