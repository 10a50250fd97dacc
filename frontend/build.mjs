// Bundles the explorer into one ES module (plus its CSS) under src/cellportal/web/static/explorer/, and the
// upload widget + live status rows into src/cellportal/web/static/portal/upload.js.
// The output is not committed: `make frontend` runs this when a bundle is missing.
import { build, context } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, "../src/cellportal/web/static/explorer");
const portalDir = resolve(here, "../src/cellportal/web/static/portal");

const options = {
  entryPoints: [resolve(here, "src/explorer/main.js")],
  outfile: resolve(outdir, "explorer.js"),
  bundle: true,
  format: "esm",
  minify: true,
  sourcemap: true,
  target: ["chrome110", "firefox115", "safari16"],
  logLevel: "info",
};

const uploadOptions = {
  ...options,
  entryPoints: [resolve(here, "src/portal/main.js")],
  outfile: resolve(portalDir, "upload.js"),
};

await mkdir(outdir, { recursive: true });
await mkdir(portalDir, { recursive: true });
await copyFile(resolve(here, "src/explorer/explorer.css"), resolve(outdir, "explorer.css"));
await copyFile(resolve(here, "src/portal/upload.css"), resolve(portalDir, "upload.css"));
if (process.argv.includes("--watch")) {
  await (await context(options)).watch();
  await (await context(uploadOptions)).watch();
} else {
  await Promise.all([build(options), build(uploadOptions)]);
}
