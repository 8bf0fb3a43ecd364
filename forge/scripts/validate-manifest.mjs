// Validates a Forge manifest offline with @forge/manifest: the JSON schema it ships plus its own semantic checks
// (scopes known to Forge, endpoint/remote references, resource folders present), as `forge lint` would.
//
// Usage: node scripts/validate-manifest.mjs [--json | --print-json] [manifest.yml…]   (default: ../manifest.yml)
// Exit status 0 when every manifest is valid; else 1, with one line per problem on stderr ("line:column message").
// --json: print the verdicts as JSON on stdout ([{path, valid, errors, warnings}]), for the Python tests.
// --print-json: print the (first) manifest as parsed, variables not substituted, as JSON on stdout.
// Manifest variables (`${REMOTE_BASE_URL}`) are read from the environment as the Forge CLI does; offline, an unset
// REMOTE_BASE_URL gets a stand-in https URL so the rest of the manifest can still be checked.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const printJson = args.includes("--print-json");
const printVerdicts = args.includes("--json");
const given = args.filter((a) => !a.startsWith("--"));
const manifestPaths = (given.length ? given : [resolve(here, "..", "manifest.yml")]).map((p) => resolve(p));
const manifestPath = manifestPaths[0];
const STAND_IN_REMOTE = "https://dr-remote.example.com";

if (!process.env.REMOTE_BASE_URL) {
  process.env.REMOTE_BASE_URL = STAND_IN_REMOTE;
}

if (printJson) {
  // The YAML parser @forge/manifest itself uses (its declared dependency), so both read the file the same way.
  const parse = createRequire(require.resolve("@forge/manifest"))("yaml").parse;
  process.stdout.write(JSON.stringify(parse(readFileSync(manifestPath, "utf8"))) + "\n");
  process.exit(0);
}

// The package reports through Sentry when it replaces a variable; without a DSN that is a no-op (nothing leaves).
const { validate } = require("@forge/manifest");

function describe(problem) {
  const where = problem.line !== undefined ? `${problem.line}:${problem.column ?? 0}` : "-";
  return `${where} ${problem.level ?? "error"} ${problem.message}`;
}

/** One manifest's verdict: {path, valid, errors: [line], warnings: [line]}. */
async function check(path) {
  let result;
  try {
    result = await validate(false, path);
  } catch (err) {
    // A missing manifest variable or unparsable YAML surfaces as an exception rather than a result.
    return { path, valid: false, errors: [`- error ${err && err.message ? err.message : String(err)}`], warnings: [] };
  }
  const problems = result.errors ?? [];
  const errors = problems.filter((p) => p.level !== "warning").map(describe);
  const warnings = problems.filter((p) => p.level === "warning").map(describe);
  if (!result.success && errors.length === 0) errors.push("- error invalid (no detail given by @forge/manifest)");
  return { path, valid: result.success && errors.length === 0, errors, warnings };
}

// Compiling the schema takes seconds, so one process checks every manifest it is given (the validator is cached).
const verdicts = [];
for (const path of manifestPaths) verdicts.push(await check(path));
if (printVerdicts) {
  process.stdout.write(JSON.stringify(verdicts) + "\n");
} else {
  const entry = require.resolve("@forge/manifest"); // .../@forge/manifest/out/index.js
  const version = JSON.parse(readFileSync(resolve(dirname(entry), "..", "package.json"), "utf8")).version;
  for (const v of verdicts) {
    for (const line of [...v.warnings, ...v.errors]) process.stderr.write(`${v.path}: ${line}\n`);
    if (v.valid) process.stdout.write(`${v.path}: valid (@forge/manifest ${version})\n`);
  }
}
// Exit explicitly: the package leaves handles open that would keep node alive for seconds.
process.exit(verdicts.every((v) => v.valid) ? 0 : 1);
