import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Sandboxes and mounts live in child processes; forks keep a crashed test from taking the others down.
    pool: "forks",
    reporters: ["default", "json"],
    // Read by .ci/run to print a plain "N passed, N failed" closing line.
    outputFile: { json: ".vitest-results.json" },
  },
});
