// Builds the Custom UI into dist/: index.html, app.js (one bundle with @forge/bridge) and app.css.
// No inline scripts or styles anywhere, so the page runs under Forge's default Content-Security-Policy.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "dist");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: resolve(here, "src/main.js"), "app-style": resolve(here, "src/styles.css") },
  outdir: out,
  entryNames: "[name]",
  bundle: true,
  format: "iife",
  target: ["chrome110", "firefox110", "safari16"],
  minify: true,
  sourcemap: false,
  legalComments: "linked",
  logLevel: "warning",
  // @forge/bridge is written for bundlers; it reads process.env only for tooling hints.
  define: { "process.env.NODE_ENV": '"production"' },
});
copyFileSync(resolve(here, "src/index.html"), resolve(out, "index.html"));
