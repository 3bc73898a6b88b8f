//! The web console: a single-page app, embedded in the binary, served at `/console`.
//!
//! The page is one more client of the Kinesis API: it signs its calls with SigV4 (Web Crypto in
//! the browser) and posts them to `/` like any SDK, so it goes through the same decoding,
//! authentication and validation as every other client and has no private way in. The server adds
//! only the static files below; nothing here reads or changes a stream.
//!
//! `GET /` stays what Kinesis answers to a bare GET (AccessDeniedException) unless the client asks
//! for HTML, as a browser's address bar does; then it is the console. SDKs never ask for HTML, so
//! their view of the wire is unchanged.
//!
//! The assets are few and small (tens of KiB), so they are held as `&'static` strings and answered
//! without touching the disk: the console works offline and from any working directory.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX: Asset = Asset {
    path: "/console",
    content_type: "text/html; charset=utf-8",
    body: include_str!("../console/index.html"),
};

/// Every file the page loads, by the path it loads it from.
const ASSETS: &[Asset] = &[
    INDEX,
    Asset {
        path: "/console/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../console/index.html"),
    },
    Asset {
        path: "/console/app.mjs",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/app.mjs"),
    },
    Asset {
        path: "/console/format.mjs",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/format.mjs"),
    },
    Asset {
        path: "/console/sigv4.mjs",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../console/sigv4.mjs"),
    },
    Asset {
        path: "/console/style.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../console/style.css"),
    },
];

/// Where the page learns what it must sign with: the server's region (SigV4's credential scope
/// must name it). Not secret: every error about a wrong scope says it too.
const SETTINGS_PATH: &str = "/console/settings.json";

/// The console's answer to `GET path`, or `None` when the path is not the console's. `region` is
/// the server's, for the page's signatures.
pub fn answer(path: &str, headers: &HeaderMap, region: &str) -> Option<Response<Bytes>> {
    let (body, content_type) = if path == SETTINGS_PATH {
        let settings = serde_json::json!({ "region": region }).to_string();
        (Bytes::from(settings), "application/json")
    } else {
        let asset = if path == "/" {
            wants_html(headers).then_some(&INDEX)?
        } else {
            ASSETS.iter().find(|asset| asset.path == path)?
        };
        (
            Bytes::from_static(asset.body.as_bytes()),
            asset.content_type,
        )
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The files change with the binary; a stale script against a newer server is worse than a
    // refetch of a few KiB.
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response_headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Only our own scripts run, and they talk only to this server.
    response_headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
        ),
    );
    Some(response)
}

/// Whether the client asked for an HTML page (a browser's navigation does; SDKs never do).
fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|accept| accept.contains("text/html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_get_of_the_root_is_not_the_console() {
        assert!(answer("/", &HeaderMap::new(), "us-east-1").is_none());
        let mut browser = HeaderMap::new();
        browser.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,*/*;q=0.8"),
        );
        assert!(answer("/", &browser, "us-east-1").is_some());
    }

    #[test]
    fn every_asset_the_page_names_is_served() {
        for asset in ASSETS {
            assert!(!asset.body.is_empty(), "{} is empty", asset.path);
        }
        for script in ["/console/app.mjs", "/console/style.css"] {
            assert!(INDEX.body.contains(script), "index.html loads {script}");
            assert!(answer(script, &HeaderMap::new(), "us-east-1").is_some());
        }
        assert!(answer("/console/missing.js", &HeaderMap::new(), "us-east-1").is_none());
        let settings = answer(SETTINGS_PATH, &HeaderMap::new(), "eu-west-1").expect("settings");
        assert_eq!(&settings.body()[..], br#"{"region":"eu-west-1"}"#);
    }
}
