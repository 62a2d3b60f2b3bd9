// Bundles the compiled CLI (dist/src/cli/main.js) into a few files for start-up time: Node 20 pays
// about 0.5 ms per ESM module it resolves and compiles, and the CLI is ~110 modules. Dynamic imports
// stay separate chunks, so what a command loads on use is still loaded only then.
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));
const external = [...builtinModules, /^node:/, ...Object.keys(pkg.dependencies)];

export default {
  logLevel: "warn",
  build: {
    ssr: "dist/src/cli/main.js",
    outDir: "dist/bundle",
    emptyOutDir: true,
    target: "node20",
    minify: false,
    sourcemap: false,
    rollupOptions: {
      external,
      output: { format: "es", entryFileNames: "main.js", chunkFileNames: "chunks/[name]-[hash].js" },
    },
  },
};
