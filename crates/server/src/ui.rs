//! The UI, embedded at build time from `ui/dist` (see `build.rs`). Hashed assets under
//! `assets/` are cached for a year as immutable; everything else (index.html) is revalidated
//! on every load, so a new build shows at once. Unknown paths get index.html (the UI routes
//! in the browser). Without a built UI, `/` is a plain page saying how to build it.

use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Paddock</title>\
<h1>Paddock</h1><p>The endpoint is running, but this build of <code>paddock</code> has no UI: \
it was built before the UI was.</p><p>Build the UI, then Paddock: \
<pre>cd ui &amp;&amp; npm ci &amp;&amp; npm run build &amp;&amp; cd .. \
&amp;&amp; cargo install --locked --path crates/cli</pre><p>The API is at \
<a href=/api/v1/openapi.json>/api/v1/openapi.json</a>.</p>";

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn find(path: &str) -> Option<&'static [u8]> {
    ASSETS.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

/// Whether a UI is embedded.
pub fn built() -> bool {
    find("index.html").is_some()
}

pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if let Some(bytes) = find(path) {
        let cache = if path.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(mime(path))),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            ],
            bytes,
        )
            .into_response();
    }
    // A missing hashed asset is a real 404; any other path is a route of the UI.
    if path.starts_with("assets/") || path.starts_with("api/") {
        return crate::error::ApiError::not_found("no such file").into_response();
    }
    match find("index.html") {
        Some(index) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            index,
        )
            .into_response(),
        None => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            NOT_BUILT,
        )
            .into_response(),
    }
}
