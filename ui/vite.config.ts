import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as {
  version: string;
};

// The endpoint serves dist/ at `/`; every asset path is absolute from there.
export default defineConfig({
  base: "/",
  plugins: [svelte()],
  define: { __UI_VERSION__: JSON.stringify(pkg.version) },
  build: {
    target: "es2022",
    sourcemap: false,
    assetsInlineLimit: 0,
  },
  server: {
    // `npm run dev` against a running `paddock up`: PADDOCK_URL=https://127.0.0.1:7420
    proxy: process.env.PADDOCK_URL
      ? { "/api": { target: process.env.PADDOCK_URL, secure: false, ws: true } }
      : undefined,
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
  },
});
