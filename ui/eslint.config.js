import js from "@eslint/js";
import ts from "typescript-eslint";
import svelte from "eslint-plugin-svelte";
import globals from "globals";
import svelteConfig from "./svelte.config.js";

export default ts.config(
  { ignores: ["dist/", "node_modules/", "src/lib/wire/", "test-results/"] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser, ...globals.node, __UI_VERSION__: "readonly" },
    },
  },
  {
    files: ["**/*.svelte", "**/*.svelte.ts"],
    languageOptions: {
      parserOptions: { parser: ts.parser, extraFileExtensions: [".svelte"], svelteConfig },
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      // Views must go through lib/backend: no direct network access anywhere else.
      "no-restricted-globals": [
        "error",
        { name: "fetch", message: "Use the backend (src/lib/backend/); views never call fetch." },
        {
          name: "WebSocket",
          message: "Use the backend (src/lib/backend/); views never open sockets.",
        },
      ],
    },
  },
  {
    files: ["src/lib/backend/**", "e2e/**", "scripts/**", "tests/**", "public/**"],
    rules: { "no-restricted-globals": "off" },
  },
);
