// Builds the Custom UI into dist/: index.html, app.js (one bundle with @forge/bridge) and app.css; and the
// "Before the restore" issue panel into dist/issue-panel/ (index.html, panel.js, panel-style.css, icon.svg).
// No inline scripts or styles anywhere, so the pages run under Forge's default Content-Security-Policy.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "dist");

async function bundle(entryPoints, outdir) {
  await build({
    entryPoints,
    outdir,
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
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await bundle({ app: resolve(here, "src/main.js"), "app-style": resolve(here, "src/styles.css") }, out);
copyFileSync(resolve(here, "src/index.html"), resolve(out, "index.html"));

const panel = resolve(out, "issue-panel");
await bundle({ panel: resolve(here, "src/issue-panel/main.js"),
               "panel-style": resolve(here, "src/issue-panel/styles.css") }, panel);
for (const name of ["index.html", "icon.svg"]) {
  copyFileSync(resolve(here, "src/issue-panel", name), resolve(panel, name));
}
