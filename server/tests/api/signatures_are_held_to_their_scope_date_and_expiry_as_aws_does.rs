//! With `--credentials`, a signature counts only where and when AWS would accept it: its
//! credential scope names the server's region, `kinesis` and the day of its `X-Amz-Date`; a
//! request dated beyond the clock skew in the future or the past is refused with AWS's message
//! for each; a presigned request is valid for its `X-Amz-Expires`, at most a week; and the host
//! must be signed. Each refusal is the exception and message AWS sends, and changes nothing.

use std::time::{Duration, SystemTime};

use crate::common::{Answer, Signing, TestServer, bounded, send_http2};
use bytes::Bytes;
use http::{HeaderValue, Request, StatusCode, Uri};
use http_body_util::Full;
use serde_json::json;
use shardlog_server::ServerConfig;
use shardlog_server::auth::Credentials;

const KEY: &str = "AKIDSCOPETEST";
const SECRET: &str = "scope/test/secret";
const HOUR: Duration = Duration::from_secs(3600);
const WEEK_SECS: u64 = 7 * 24 * 3600;

fn create(name: &str) -> String {
    json!({"StreamName": name, "ShardCount": 1}).to_string()
}

/// A CreateStream of `name` signed as `signing` says.
fn create_signed(
    addr: std::net::SocketAddr,
    signing: &Signing<'_>,
    name: &str,
) -> Request<Full<Bytes>> {
    signing.request(addr, "CreateStream", &create(name), &create(name))
}

/// The request's `X-Amz-Date`, from its headers or its query string.
fn amz_date(request: &Request<Full<Bytes>>) -> String {
    if let Some(date) = request.headers().get("x-amz-date") {
        return date.to_str().unwrap().to_owned();
    }
    let query = request.uri().query().unwrap();
    let (_, rest) = query.split_once("X-Amz-Date=").unwrap();
    rest.split('&').next().unwrap().to_owned()
}

/// Rewrites the `Authorization` header with `edit`.
fn edit_authorization(request: &mut Request<Full<Bytes>>, edit: impl Fn(&str) -> String) {
    let header = request.headers()["authorization"]
        .to_str()
        .unwrap()
        .to_owned();
    let edited = HeaderValue::from_str(&edit(&header)).unwrap();
    request.headers_mut().insert("authorization", edited);
}

/// Rewrites the query string with `edit`.
fn edit_query(request: &mut Request<Full<Bytes>>, edit: impl Fn(&str) -> String) {
    let uri = request.uri().to_string();
    *request.uri_mut() = edit(&uri).parse::<Uri>().unwrap();
}

fn assert_refused(answer: &Answer, kind: &str, message: &str) {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    assert_eq!(answer.json(), json!({"__type": kind, "message": message}));
}

/// Asserts a refusal for the request's date: `Signature <what>: <date> is <relation> <bound>
/// (<server time> <sign> <validity>.)`, the bound and server time being the server's.
fn assert_refused_for_time(answer: &Answer, date: &str, opening: &str, closing: &str) {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    assert_eq!(answer.json()["__type"], "InvalidSignatureException");
    let message = answer.json()["message"].as_str().unwrap().to_owned();
    let prefix = format!("{opening} {date} ");
    assert!(
        message.starts_with(&prefix) && message.ends_with(closing),
        "{message}"
    );
    // Two timestamps of the server's: `20260101T000000Z (20260101T001500Z`.
    let middle = &message[prefix.len()..message.len() - closing.len()];
    let stamps: Vec<&str> = middle.rsplitn(3, ' ').collect();
    assert_eq!(stamps.len(), 3, "{message}");
    assert!(
        stamps[0].starts_with('(') && stamps[0].len() == 17,
        "{message}"
    );
    assert_eq!(stamps[1].len(), 16, "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_held_to_their_scope_date_and_expiry_as_aws_does() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        credentials: Credentials::new([(KEY.to_owned(), SECRET.to_owned())]),
        ..ServerConfig::default()
    };
    let server = TestServer::start(dir.path(), config).await;
    let addr = server.addr;
    let now = SystemTime::now();
    let signing = Signing::kinesis(KEY, SECRET);
    bounded(async {
        // The credential scope.
        let other_region = Signing {
            region: "eu-west-1",
            ..Signing::kinesis(KEY, SECRET)
        };
        let other_service = Signing {
            service: "s3",
            ..Signing::kinesis(KEY, SECRET)
        };
        let both = Signing {
            region: "eu-west-1",
            service: "s3",
            ..Signing::kinesis(KEY, SECRET)
        };
        let mut other_day = create_signed(addr, &signing, "other-day");
        let day = amz_date(&other_day)[..8].to_owned();
        edit_authorization(&mut other_day, |header| {
            header.replace(&format!("{KEY}/{day}/"), &format!("{KEY}/20150830/"))
        });
        let other_day_date = amz_date(&other_day);
        // The host unsigned.
        let mut hostless = create_signed(addr, &signing, "hostless");
        edit_authorization(&mut hostless, |header| {
            let (head, rest) = header.split_once("SignedHeaders=").unwrap();
            let (_, tail) = rest.split_once(',').unwrap();
            format!("{head}SignedHeaders=content-type;x-amz-date,{tail}")
        });
        // Dated an hour ahead, and an hour behind.
        let future = create_signed(
            addr,
            &Signing {
                time: now + HOUR,
                ..Signing::kinesis(KEY, SECRET)
            },
            "future",
        );
        let future_date = amz_date(&future);
        let past = create_signed(
            addr,
            &Signing {
                time: now - HOUR,
                ..Signing::kinesis(KEY, SECRET)
            },
            "past",
        );
        let past_date = amz_date(&past);

        let answers = send_http2(
            addr,
            vec![
                create_signed(addr, &other_region, "other-region"),
                create_signed(addr, &other_service, "other-service"),
                create_signed(addr, &both, "both"),
                other_day,
                hostless,
                future,
                past,
            ],
        )
        .await;
        assert_refused(
            &answers[0],
            "InvalidSignatureException",
            "Credential should be scoped to a valid region, not 'eu-west-1'. ",
        );
        assert_refused(
            &answers[1],
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'kinesis'. ",
        );
        assert_refused(
            &answers[2],
            "InvalidSignatureException",
            "Credential should be scoped to a valid region, not 'eu-west-1'. Credential should \
             be scoped to correct service: 'kinesis'. ",
        );
        assert_refused(
            &answers[3],
            "InvalidSignatureException",
            &format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '20150830' != '{day}', from '{other_day_date}'. "
            ),
        );
        assert_refused(
            &answers[4],
            "InvalidSignatureException",
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        );
        assert_refused_for_time(
            &answers[5],
            &future_date,
            "Signature not yet current:",
            " + 15 min.)",
        );
        assert_refused_for_time(&answers[6], &past_date, "Signature expired:", " - 15 min.)");

        // Presigned requests: valid for their X-Amz-Expires, at most a week.
        let presigned = |time: SystemTime, validity_secs: u64| Signing {
            time,
            presigned_for: Some(Duration::from_secs(validity_secs)),
            ..Signing::kinesis(KEY, SECRET)
        };
        let mut over_a_week = create_signed(addr, &presigned(now, 300), "over-a-week");
        edit_query(&mut over_a_week, |uri| {
            uri.replace(
                "X-Amz-Expires=300",
                &format!("X-Amz-Expires={}", WEEK_SECS + 1),
            )
        });
        let week_old = create_signed(
            addr,
            &presigned(now - Duration::from_secs(2 * 24 * 3600), WEEK_SECS),
            "week-old",
        );
        let lapsed = create_signed(addr, &presigned(now - HOUR, 300), "lapsed");
        let lapsed_date = amz_date(&lapsed);
        let early = create_signed(addr, &presigned(now + HOUR, 300), "early");
        let early_date = amz_date(&early);
        let answers = send_http2(addr, vec![over_a_week, week_old, lapsed, early]).await;
        assert_refused(
            &answers[0],
            "IncompleteSignatureException",
            "X-Amz-Expires must be less than a week (in seconds); that is, the given \
             X-Amz-Expires must be less than 604800 seconds",
        );
        assert_eq!(answers[1].status, StatusCode::OK, "{:?}", answers[1].body);
        assert_refused_for_time(
            &answers[2],
            &lapsed_date,
            "Signature expired:",
            " - 5 min.)",
        );
        assert_refused_for_time(
            &answers[3],
            &early_date,
            "Signature not yet current:",
            " + 15 min.)",
        );

        // Only the presigned request within its week did anything.
        let list = signing.request(addr, "ListStreams", "{}", "{}");
        let answers = send_http2(addr, vec![list]).await;
        assert_eq!(answers[0].json()["StreamNames"], json!(["week-old"]));
    })
    .await;
    server.stop().await;
}
