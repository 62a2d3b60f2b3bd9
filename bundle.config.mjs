// Bundles the compiled CLI (dist/cli/main.js) and its dependencies into one CommonJS file,
// dist/bundle/main.cjs, which `npm run build` then turns into a V8 start-up snapshot
// (dist/bundle/main.blob, see cli/main.ts). One file because Node 20 has no compile cache and pays
// about 0.5 ms per ESM module it resolves and compiles; CommonJS because a snapshot's entry must be a
// single script.
import { builtinModules } from "node:module";

// Node 20 cannot load these while it builds a snapshot (node:http's module init fails there; the rest
// warn that their state may not survive), so the bundle requires them on first use instead.
const LOAD_ON_FIRST_USE = [
  "node:http",
  "node:https",
  "node:tls",
  "node:net",
  "node:child_process",
  "node:module",
];

/**
 * Rewrites `require("node:http")` and the like into a proxy that requires the module when a property is
 * first read. It lists no keys, so the bundler's interop copy (`__toESM`) does not load the module
 * either: default imports reach it through `.default`, which is the proxy itself.
 */
function requireOnFirstUse() {
  return {
    name: "tsbuild-require-on-first-use",
    renderChunk(code) {
      let out = code;
      for (const id of LOAD_ON_FIRST_USE) {
        out = out.replaceAll(`require("${id}")`, `__tsbuildRequireOnFirstUse("${id}")`);
        out = out.replaceAll(`require('${id.slice(5)}')`, `__tsbuildRequireOnFirstUse("${id}")`);
        out = out.replaceAll(`require("${id.slice(5)}")`, `__tsbuildRequireOnFirstUse("${id}")`);
      }
      const helper =
        "function __tsbuildRequireOnFirstUse(id) {\n" +
        "\tlet mod;\n" +
        "\tconst load = () => (mod ??= require(id));\n" +
        "\treturn new Proxy({}, {\n" +
        "\t\tget: (_, key) => load()[key],\n" +
        "\t});\n" +
        "}\n";
      return { code: out.replace(/^("use strict";\n)?/, (m) => m + helper), map: null };
    },
  };
}

export default {
  logLevel: "warn",
  plugins: [requireOnFirstUse()],
  ssr: { noExternal: true },
  build: {
    ssr: "dist/cli/main.js",
    outDir: "dist/bundle",
    emptyOutDir: true,
    target: "node20",
    minify: false,
    sourcemap: false,
    rollupOptions: {
      external: [...builtinModules, /^node:/, "zstd-napi"],
      output: { format: "cjs", entryFileNames: "main.cjs", codeSplitting: false },
    },
  },
};
