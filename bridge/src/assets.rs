//! The built web app as static files: right types, compression, and caching that suits trunk's
//! hashed file names.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

/// Serves the trunk-built page in `web_dir`.
pub fn router<S: Clone + Send + Sync + 'static>(web_dir: &Path) -> Router<S> {
    let files = ServeDir::new(web_dir).append_index_html_on_directories(true);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_control))
        .layer(CompressionLayer::new())
}

/// Hashed assets (trunk names them `name-<hash>.ext`) never change: cache them for a year.
/// Everything else, `index.html` above all, is revalidated on every load.
async fn cache_control(request: Request, next: Next) -> Response {
    let hashed = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    let value = if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// Trunk's hash is a 64-bit number in hexadecimal without leading zeros: usually 16 digits,
/// 15 in one build out of 16, fewer still more rarely. Eight or more hex digits after the last
/// dash count as a hash.
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

#[cfg(test)]
mod tests {
    use super::is_hashed_asset;

    #[test]
    fn recognises_trunk_hashes() {
        assert!(is_hashed_asset("/tapedeck-web-ba6f938d1644ef3a_bg.wasm"));
        assert!(is_hashed_asset("/style-d0f46f586d608a65.css"));
        assert!(
            is_hashed_asset("/tapedeck-web-623f21b50f3a367_bg.wasm"),
            "15 digits: a leading zero"
        );
        assert!(
            !is_hashed_asset("/my-song-cafe.css"),
            "too short to be a hash"
        );
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/"));
        assert!(!is_hashed_asset("/tapedeck-web.js"));
    }
}
