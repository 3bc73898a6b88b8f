// Unit tests of the console's formatting, parsing and signing, for `node --test`.
// Run by server/tests/console_formatting_passes_its_unit_tests.rs as part of `cargo test`.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  HASH_KEY_MAX,
  base64ToBytes,
  bytesToBase64,
  capacityModeLabel,
  counterRate,
  formatBytes,
  formatDateTime,
  formatHashKeyRange,
  formatSequenceRange,
  formatTimestamp,
  niceCeiling,
  parsePrometheus,
  parseUtcInput,
  polylinePoints,
  renderData,
  retentionLabel,
  statusLabel,
} from "./format.mjs";
import { createHash, createHmac } from "node:crypto";

import { amzDate, hmac, sha256Bytes, signedHeaders } from "./sigv4.mjs";

test("capacity modes and statuses read as the Kinesis console labels them", () => {
  assert.equal(capacityModeLabel("ON_DEMAND"), "On-demand");
  assert.equal(capacityModeLabel("PROVISIONED"), "Provisioned");
  assert.equal(statusLabel("CREATING"), "Creating");
  assert.equal(statusLabel("ACTIVE"), "Active");
  assert.equal(statusLabel(undefined), "");
});

test("retention reads in hours up to two days, then in days", () => {
  assert.equal(retentionLabel(24), "24 hours");
  assert.equal(retentionLabel(1), "1 hour");
  assert.equal(retentionLabel(47), "47 hours");
  assert.equal(retentionLabel(48), "2 days");
  assert.equal(retentionLabel(49), "2 days 1 hour");
  assert.equal(retentionLabel(168), "7 days");
  assert.equal(retentionLabel(8760), "365 days");
  assert.equal(retentionLabel(-1), "");
  assert.equal(retentionLabel(1.5), "");
});

test("API timestamps (epoch seconds) become UTC ISO-8601 with milliseconds", () => {
  assert.equal(formatTimestamp(0), "1970-01-01T00:00:00.000Z");
  assert.equal(formatTimestamp(1764100000.123), "2025-11-25T19:46:40.123Z");
  assert.equal(formatTimestamp(undefined), "");
  assert.equal(formatTimestamp(Number.NaN), "");
});

test("creation times read as a date and a time of day, in UTC", () => {
  assert.equal(formatDateTime(1764100000.123), "Nov 25, 2025, 19:46:40 UTC");
  assert.equal(formatDateTime(0), "Jan 1, 1970, 00:00:00 UTC");
  assert.equal(formatDateTime(undefined), "");
  assert.equal(formatDateTime(Number.POSITIVE_INFINITY), "");
});

test("a typed timestamp is taken as UTC unless it names its zone", () => {
  assert.equal(parseUtcInput("2025-11-25T19:46:40"), 1764100000);
  assert.equal(parseUtcInput("2025-11-25T20:46:40+01:00"), 1764100000);
  assert.equal(parseUtcInput(""), null);
  assert.equal(parseUtcInput("yesterday"), null);
});

test("hash-key ranges show both ends exactly and their share of the key space", () => {
  assert.equal(
    formatHashKeyRange("0", HASH_KEY_MAX.toString()),
    "0 – 340282366920938463463374607431768211455 (100%)",
  );
  const half = (1n << 127n).toString();
  assert.equal(
    formatHashKeyRange(half, HASH_KEY_MAX.toString()),
    `${half} – 340282366920938463463374607431768211455 (50%)`,
  );
  // A quarter of the space, exactly representable only as a BigInt.
  assert.equal(formatHashKeyRange("0", ((1n << 126n) - 1n).toString()),
    `0 – ${((1n << 126n) - 1n).toString()} (25%)`);
  assert.equal(formatHashKeyRange("x", "1"), "");
  assert.equal(formatHashKeyRange("5", "4"), "5 – 4");
});

test("a sequence-number range is open until the shard closes", () => {
  assert.equal(formatSequenceRange({ StartingSequenceNumber: "100" }), "100 – (open)");
  assert.equal(
    formatSequenceRange({ StartingSequenceNumber: "100", EndingSequenceNumber: "200" }),
    "100 – 200",
  );
  assert.equal(formatSequenceRange(undefined), "");
});

test("record data shows as text when it is UTF-8, else as hex with its base64", () => {
  const hello = new TextEncoder().encode("Hello, Kinesis!");
  assert.deepEqual(renderData(hello), {
    kind: "text",
    text: "Hello, Kinesis!",
    hex: "48656c6c6f2c204b696e6573697321",
    base64: "SGVsbG8sIEtpbmVzaXMh",
  });
  assert.equal(renderData(new TextEncoder().encode("multi\nline\tüñí")).kind, "text");
  const binary = renderData(new Uint8Array([0xff, 0x00, 0x10]));
  assert.equal(binary.kind, "binary");
  assert.equal(binary.text, "ff0010");
  assert.equal(binary.base64, "/wAQ");
  // Valid UTF-8, but a control character: not shown as text.
  assert.equal(renderData(new Uint8Array([0x41, 0x07])).kind, "binary");
  assert.equal(renderData(new Uint8Array([])).kind, "text");
});

test("base64 round-trips every byte value", () => {
  const all = Uint8Array.from({ length: 256 }, (_, index) => index);
  assert.deepEqual(base64ToBytes(bytesToBase64(all)), all);
  assert.throws(() => base64ToBytes("not base64!"));
});

test("byte counts read in binary units", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(1024 * 1024), "1.0 MiB");
  assert.equal(formatBytes(-1), "");
});

test("the Prometheus text parses into samples with labels", () => {
  const text = [
    "# HELP shardlog_stream_incoming_records_total Kinesis stream-level IncomingRecords (Sum, Count).",
    "# TYPE shardlog_stream_incoming_records_total counter",
    'shardlog_stream_incoming_records_total{stream="a"} 12',
    'shardlog_shard_incoming_bytes_total{stream="a",shard="shardId-000000000001"} 3.5e3',
    'odd{stream="quote\\"d\\\\"} 1',
    "bare_metric 7",
    "garbage line",
    'not_a_number{stream="a"} NaNish',
    "",
  ].join("\n");
  assert.deepEqual(parsePrometheus(text), [
    { name: "shardlog_stream_incoming_records_total", labels: { stream: "a" }, value: 12 },
    {
      name: "shardlog_shard_incoming_bytes_total",
      labels: { stream: "a", shard: "shardId-000000000001" },
      value: 3500,
    },
    { name: "odd", labels: { stream: 'quote"d\\' }, value: 1 },
    { name: "bare_metric", labels: {}, value: 7 },
  ]);
});

test("counter rates are per second and start over after a reset", () => {
  assert.equal(counterRate(10, 30, 5), 4);
  assert.equal(counterRate(30, 6, 2), 3);
  assert.equal(counterRate(1, 2, 0), 0);
});

test("chart ceilings land on 1, 2 or 5 times a power of ten", () => {
  assert.equal(niceCeiling(0), 1);
  assert.equal(niceCeiling(1), 1);
  assert.equal(niceCeiling(1.2), 2);
  assert.equal(niceCeiling(3), 5);
  assert.equal(niceCeiling(7), 10);
  assert.equal(niceCeiling(10), 10);
  assert.equal(niceCeiling(4321), 5000);
});

test("chart points map time to x and value to y, clipped at the top", () => {
  const points = polylinePoints(
    [{ atMs: 0, value: 0 }, { atMs: 50, value: 5 }, { atMs: 100, value: 20 }],
    0, 100, 10, 300, 100,
  );
  assert.equal(points, "0.0,100.0 150.0,50.0 300.0,0.0");
});

test("X-Amz-Date is the basic ISO-8601 form", () => {
  assert.equal(amzDate(new Date(Date.UTC(2015, 7, 30, 12, 36, 0))), "20150830T123600Z");
});

test("requests are signed as SigV4 specifies", async () => {
  // Worked by hand from the SigV4 definition with Python's hmac/hashlib (same inputs), so a
  // change in canonicalisation, scope or key derivation changes this value.
  const headers = await signedHeaders({
    accessKey: "AKIDEXAMPLE",
    secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    region: "us-east-1",
    service: "kinesis",
    host: "127.0.0.1:4567",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "Kinesis_20131202.ListStreams",
    },
    body: "{}",
    now: new Date(Date.UTC(2015, 7, 30, 12, 36, 0)),
  });
  assert.equal(headers["X-Amz-Date"], "20150830T123600Z");
  assert.equal(
    headers.Authorization,
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/kinesis/aws4_request, " +
      "SignedHeaders=content-type;host;x-amz-date;x-amz-target, " +
      `Signature=${EXPECTED_SIGNATURE}`,
  );
});

test("a GET of another path is signed as SigV4's get-vanilla example", async () => {
  // The AWS SigV4 test suite's get-vanilla case: GET / on example.amazonaws.com, no body.
  const headers = await signedHeaders({
    accessKey: "AKIDEXAMPLE",
    secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    region: "us-east-1",
    service: "service",
    host: "example.amazonaws.com",
    method: "GET",
    path: "/",
    now: new Date(Date.UTC(2015, 7, 30, 12, 36, 0)),
  });
  assert.equal(
    headers.Authorization,
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
      "SignedHeaders=host;x-amz-date, " +
      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
  );
});

test("the plain-JavaScript SHA-256 and HMAC agree with Node's, at every block boundary", async () => {
  assert.equal(
    Buffer.from(sha256Bytes(new TextEncoder().encode("abc"))).toString("hex"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  for (let length = 0; length <= 200; length += 1) {
    const bytes = Uint8Array.from({ length }, (_, index) => (index * 7 + length) % 256);
    assert.equal(
      Buffer.from(sha256Bytes(bytes)).toString("hex"),
      createHash("sha256").update(bytes).digest("hex"),
      `length ${length}`,
    );
    const key = bytes.slice(0, length % 100);
    assert.equal(
      Buffer.from(await hmac(key, "message", { useWebCrypto: false })).toString("hex"),
      createHmac("sha256", key).update("message").digest("hex"),
      `key length ${key.length}`,
    );
  }
});

test("outside a secure context (no Web Crypto) the signature is the same", async () => {
  const headers = await signedHeaders({
    accessKey: "AKIDEXAMPLE",
    secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    region: "us-east-1",
    service: "kinesis",
    host: "127.0.0.1:4567",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "Kinesis_20131202.ListStreams",
    },
    body: "{}",
    now: new Date(Date.UTC(2015, 7, 30, 12, 36, 0)),
    useWebCrypto: false,
  });
  assert.ok(headers.Authorization.endsWith(`Signature=${EXPECTED_SIGNATURE}`), headers.Authorization);
});

const EXPECTED_SIGNATURE = "62612d5f6ea0d1a861a0e7ede240a2a4dc4b9540b53bb83c8368f278800a3a3b";
