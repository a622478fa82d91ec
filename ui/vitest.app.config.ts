import { defineConfig } from "vitest/config";

// The desktop app's end-to-end tests (scripts/app-e2e.sh starts the display, the session bus
// and tauri-driver, then runs this).
export default defineConfig({
  test: {
    include: ["e2e/app/**/*.app.ts"],
    environment: "node",
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    sequence: { concurrent: false },
    // As the browser suite: a failed test runs once more, and the report marks it (README,
    // "The desktop app", names the tests that have needed it).
    retry: 1,
  },
});
