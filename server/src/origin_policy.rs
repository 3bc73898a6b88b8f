//! Which web pages may talk to the server: the defence against cross-site requests and DNS
//! rebinding.
//!
//! A browser sends whatever a page asks to any address it can reach, loopback included; what
//! stops a page from another site is the browser's same-origin policy, which the server must not
//! undo. So, secure by default and one documented flag away from what a setup needs:
//! - **Host.** A request must be addressed (HTTP/1.1 `Host`, HTTP/2 `:authority`) to `localhost`,
//!   a loopback address, the address the server listens on or was reached at, or a name allowed
//!   with `--allow-host`. A page on `http://attacker.example` whose name was rebound to 127.0.0.1
//!   is same-origin in the browser's eyes, but its requests name `attacker.example` and are
//!   refused. A request naming no host at all comes from no browser and is served.
//! - **Origin.** A request carrying an `Origin` (browsers send one on every cross-origin request,
//!   and on same-origin POSTs) is served when that origin is the server's own (the console), or
//!   one allowed with `--cors-origin`; those, and only those, get CORS headers. Every other one is
//!   refused before anything runs, and a preflight from it gets no `Access-Control-*` headers, so
//!   the browser does not send the call at all.
//!
//! A refusal names the flag that would lift it, so a Docker or LAN user knows what to add.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, HeaderValue, Uri, header};

/// Allows every host or every origin when given as the flag's value.
const ANY: &str = "*";

/// The flags' lists, normalized.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// Host names (or addresses) allowed besides loopback and the listening address, lower-case,
    /// without a port.
    allowed_hosts: Vec<String>,
    /// Origins allowed to make cross-origin calls (`scheme://host[:port]`, lower-case).
    cors_origins: Vec<String>,
}

/// What the policy decided about a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Served with no CORS headers: no `Origin`, or the server's own.
    Serve,
    /// Served, with CORS headers for this allowed cross-origin page.
    ServeCrossOrigin(HeaderValue),
    /// Refused, with a message for a person.
    Refuse(String),
}

impl OriginPolicy {
    /// A policy allowing these extra hosts (`--allow-host`) and origins (`--cors-origin`).
    pub fn new(
        allowed_hosts: impl IntoIterator<Item = String>,
        cors_origins: impl IntoIterator<Item = String>,
    ) -> OriginPolicy {
        OriginPolicy {
            allowed_hosts: allowed_hosts
                .into_iter()
                .map(|host| strip_port(&host).to_ascii_lowercase())
                .collect(),
            cors_origins: cors_origins
                .into_iter()
                .map(|origin| origin.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    /// Judges a request that reached the server at `local` (the socket's own address), which
    /// listens on `listen`.
    pub fn judge(
        &self,
        headers: &HeaderMap,
        uri: &Uri,
        listen: SocketAddr,
        local: SocketAddr,
    ) -> Verdict {
        let host_header = headers
            .get(header::HOST)
            .map(|value| value.to_str().unwrap_or("\u{fffd}"));
        let authority = uri.authority().map(|authority| authority.as_str());
        for host in [host_header, authority].into_iter().flatten() {
            if !self.host_allowed(host, listen, local) {
                return Verdict::Refuse(format!(
                    "Requests for the host '{host}' are refused: this server answers only \
                     requests addressed to localhost, a loopback address or the address it \
                     listens on, so that web pages cannot reach it through DNS rebinding. Start \
                     it with --allow-host {} to accept that name.",
                    strip_port(host)
                ));
            }
        }
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Verdict::Serve;
        };
        let origin_text = origin.to_str().unwrap_or("\u{fffd}");
        let own = host_header.or(authority).is_some_and(|host| {
            ["http://", "https://"].iter().any(|scheme| {
                origin_text
                    .strip_prefix(scheme)
                    .is_some_and(|origin_host| origin_host.eq_ignore_ascii_case(host))
            })
        });
        if own {
            return Verdict::Serve;
        }
        let normalized = origin_text.trim_end_matches('/').to_ascii_lowercase();
        if self.cors_origins.contains(&normalized) {
            return Verdict::ServeCrossOrigin(origin.clone());
        }
        if self.cors_origins.iter().any(|allowed| allowed == ANY) {
            return Verdict::ServeCrossOrigin(HeaderValue::from_static(ANY));
        }
        Verdict::Refuse(format!(
            "Requests from the web page at '{origin_text}' are refused: this server allows no \
             cross-origin requests. Start it with --cors-origin {origin_text} to allow that page."
        ))
    }

    fn host_allowed(&self, host: &str, listen: SocketAddr, local: SocketAddr) -> bool {
        let name = strip_port(host).trim_end_matches('.');
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        if let Ok(address) = name.parse::<IpAddr>() {
            let address = address.to_canonical();
            if address.is_loopback() || address == listen.ip() || address == local.ip() {
                return true;
            }
        }
        self.allowed_hosts
            .iter()
            .any(|allowed| allowed == ANY || allowed.eq_ignore_ascii_case(name))
    }
}

/// Adds the CORS headers of an allowed cross-origin answer.
pub fn add_cors_headers(headers: &mut HeaderMap, allowed_origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed_origin);
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(
            "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date",
        ),
    );
}

/// Adds what a preflight from an allowed origin is answered with, as Kinesis answers one: the
/// method and headers asked for, for two days.
pub fn add_preflight_headers(headers: &mut HeaderMap, asked: &HeaderMap) {
    if let Some(asked_headers) = asked.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked_headers.clone());
    }
    if let Some(asked_method) = asked.get(header::ACCESS_CONTROL_REQUEST_METHOD) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, asked_method.clone());
    }
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("172800"),
    );
}

/// `example.com:4567` → `example.com`; `[::1]:4567` → `::1`; a bare name or address unchanged.
fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(address, _)| address);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(policy: &OriginPolicy, host: &str, origin: Option<&str>) -> Verdict {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        let listen = SocketAddr::from(([0, 0, 0, 0], 4567));
        let local = SocketAddr::from(([192, 168, 1, 5], 4567));
        policy.judge(&headers, &Uri::from_static("/"), listen, local)
    }

    #[test]
    fn loopback_and_the_reached_address_are_allowed_hosts() {
        let policy = OriginPolicy::default();
        for host in [
            "localhost:4567",
            "LOCALHOST",
            "127.0.0.1:4567",
            "127.8.9.10",
            "[::1]:4567",
            "192.168.1.5:4567",
        ] {
            assert_eq!(judge(&policy, host, None), Verdict::Serve, "{host}");
        }
        let Verdict::Refuse(message) = judge(&policy, "rebound.example:4567", None) else {
            panic!("a rebound name is served");
        };
        assert!(
            message.contains("--allow-host rebound.example"),
            "{message}"
        );
        assert!(matches!(
            judge(&policy, "10.0.0.1", None),
            Verdict::Refuse(_)
        ));
        let allowing = OriginPolicy::new(["Shardlog:4567".to_owned()], []);
        assert_eq!(judge(&allowing, "shardlog:4567", None), Verdict::Serve);
    }

    #[test]
    fn only_the_own_origin_and_allowed_ones_are_served() {
        let policy = OriginPolicy::new([], ["http://app.example:3000/".to_owned()]);
        assert_eq!(
            judge(&policy, "127.0.0.1:4567", Some("http://127.0.0.1:4567")),
            Verdict::Serve
        );
        assert_eq!(
            judge(&policy, "127.0.0.1:4567", Some("http://app.example:3000")),
            Verdict::ServeCrossOrigin(HeaderValue::from_static("http://app.example:3000"))
        );
        let Verdict::Refuse(message) =
            judge(&policy, "127.0.0.1:4567", Some("http://localhost:4567"))
        else {
            panic!("another origin is served");
        };
        assert!(
            message.contains("--cors-origin http://localhost:4567"),
            "{message}"
        );
        assert!(matches!(
            judge(&OriginPolicy::default(), "localhost", Some("null")),
            Verdict::Refuse(_)
        ));
    }

    #[test]
    fn ports_are_stripped_from_names_and_addresses() {
        assert_eq!(strip_port("example.com:4567"), "example.com");
        assert_eq!(strip_port("[::1]:4567"), "::1");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port("example.com"), "example.com");
    }
}
