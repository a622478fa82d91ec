import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    sequence: { concurrent: false },
    // A failed test runs once more before the suite fails; the README ("UI end-to-end tests")
    // names the tests that have needed it, so a retry is never silent.
    retry: 1,
  },
});
