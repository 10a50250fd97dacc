// Bundles the explorer into one ES module (plus its CSS) under src/cellportal/web/static/explorer/.
// The output is not committed: `make frontend` runs this when the bundle is missing.
import { build, context } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, "../src/cellportal/web/static/explorer");

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

await mkdir(outdir, { recursive: true });
await copyFile(resolve(here, "src/explorer/explorer.css"), resolve(outdir, "explorer.css"));
if (process.argv.includes("--watch")) {
  await (await context(options)).watch();
} else {
  await build(options);
}
