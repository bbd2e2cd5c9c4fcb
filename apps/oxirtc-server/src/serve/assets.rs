//! The web UI, embedded in the binary: plain HTML, CSS and JavaScript from `assets/`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// (path, content type, body) of every asset. `vendor/` holds third-party code, unchanged (see
/// assets/vendor/README.md: hash-wasm's SHA-256 and qrcode-generator, both MIT).
const ASSETS: [(&str, &str, &str); 8] = [
    (
        "/",
        "text/html; charset=utf-8",
        include_str!("../../assets/index.html"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    ),
    (
        "/transfer.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/transfer.js"),
    ),
    (
        "/worker.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/worker.js"),
    ),
    (
        "/style.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/style.css"),
    ),
    (
        "/icon.svg",
        "image/svg+xml",
        include_str!("../../assets/icon.svg"),
    ),
    (
        "/vendor/hash-wasm-sha256.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/vendor/hash-wasm-sha256.js"),
    ),
    (
        "/vendor/qrcode-generator.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/vendor/qrcode-generator.js"),
    ),
];

/// Paths of the embedded assets.
#[cfg(test)]
pub fn paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|(p, _, _)| *p)
}

/// The response for asset `path`.
pub fn response(path: &str) -> Response {
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, kind, body)) => (
            [(header::CONTENT_TYPE, *kind), (header::CACHE_CONTROL, "no-cache")],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
