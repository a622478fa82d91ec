//! The TypeScript wire types the UI imports must be exactly what the Rust types export.
//! `UPDATE_WIRE=1 cargo test -p paddock-server --test wire` rewrites the file.

use std::path::PathBuf;

#[test]
fn the_committed_typescript_wire_types_match_the_rust_ones() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/wire/index.ts");
    let generated = paddock_server::wire::typescript();
    if std::env::var_os("UPDATE_WIRE").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create ui/src/lib/wire");
        std::fs::write(&path, &generated).expect("write the wire types");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the Rust wire types; run `UPDATE_WIRE=1 cargo test -p paddock-server --test wire` and commit it",
        path.display()
    );
}

#[test]
fn the_openapi_document_builds_with_the_recursive_conversation_types() {
    // A sub-agent's run holds items that may hold a sub-agent's run: the schema must stop
    // there instead of recursing (it once overflowed the stack serving /openapi.json).
    use utoipa::OpenApi;
    let doc = paddock_server::openapi::ApiDoc::openapi();
    let json = serde_json::to_value(&doc).expect("the document serializes");
    for path in [
        "/api/v1/sessions/{id}/conversation",
        "/api/v1/sessions/{id}/conversation/turns/{index}",
    ] {
        assert!(
            json["paths"].get(path).is_some(),
            "{path} is not in the OpenAPI document"
        );
    }
}
