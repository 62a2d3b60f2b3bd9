import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration tests mount overlays and run sandboxes: keep them in one process at a time per file.
    fileParallelism: true,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
  },
});
