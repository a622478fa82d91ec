// The generated src/lib/wire/index.ts names `JsonValue` (ts-rs's type for serde_json::Value)
// without declaring it. Until the export declares it, this global declaration (ts-rs's own
// definition) lets the generated file type-check unchanged. Remove it once the export has it.
type JsonValue =
  number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;
