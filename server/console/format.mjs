// Pure formatting and parsing for the console: no DOM, no network, so `node --test` checks it
// (server/console/format.test.mjs, run by server/tests/console_formatting_passes_its_unit_tests.rs).

/** Largest hash key, 2^128 - 1: shards split this range between them. */
export const HASH_KEY_MAX = (1n << 128n) - 1n;

/** "On-demand" / "Provisioned", as the Kinesis console labels a StreamMode. */
export function capacityModeLabel(mode) {
  switch (mode) {
    case "ON_DEMAND": return "On-demand";
    case "PROVISIONED": return "Provisioned";
    default: return mode ?? "";
  }
}

/** "Creating", "Active", ... from a StreamStatus. */
export function statusLabel(status) {
  if (!status) return "";
  return status.charAt(0) + status.slice(1).toLowerCase();
}

/** Retention in the console's words: "24 hours", "7 days", "1 day 1 hour". */
export function retentionLabel(hours) {
  if (!Number.isInteger(hours) || hours < 0) return "";
  const plural = (count, unit) => `${count} ${unit}${count === 1 ? "" : "s"}`;
  // The default, 24, reads "24 hours" as in the Kinesis console; from two days on, days.
  if (hours < 48) return plural(hours, "hour");
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return rest === 0 ? plural(days, "day") : `${plural(days, "day")} ${plural(rest, "hour")}`;
}

/**
 * A timestamp from the API (epoch seconds, possibly fractional) as an ISO-8601 UTC string with
 * milliseconds: "2026-11-25T20:41:07.123Z". Empty for anything that is not a finite number.
 */
export function formatTimestamp(epochSeconds) {
  if (typeof epochSeconds !== "number" || !Number.isFinite(epochSeconds)) return "";
  return new Date(Math.round(epochSeconds * 1000)).toISOString();
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * A moment for people, in UTC and to the second: "Nov 25, 2025, 19:46:40 UTC" (as the Kinesis
 * console shows a creation time). Empty for anything that is not a finite number.
 */
export function formatDateTime(epochSeconds) {
  if (typeof epochSeconds !== "number" || !Number.isFinite(epochSeconds)) return "";
  const date = new Date(Math.floor(epochSeconds) * 1000);
  const two = (number) => String(number).padStart(2, "0");
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC`;
}

/** The `datetime-local` value a user typed (taken as UTC) in epoch seconds, or null. */
export function parseUtcInput(text) {
  if (typeof text !== "string" || text.trim() === "") return null;
  const trimmed = text.trim();
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(trimmed) ? trimmed : `${trimmed}Z`;
  const millis = Date.parse(withZone);
  return Number.isNaN(millis) ? null : millis / 1000;
}

/**
 * A shard's hash-key range, shortened for a table cell: both ends as decimal, and the share of
 * the whole key space it covers ("0 – 340282366920938463463374607431768211455 (100%)").
 */
export function formatHashKeyRange(startText, endText) {
  let start;
  let end;
  try {
    start = BigInt(startText);
    end = BigInt(endText);
  } catch {
    return "";
  }
  if (start < 0n || end > HASH_KEY_MAX || end < start) return `${startText} – ${endText}`;
  // Per ten thousand, in integers, so 2^128 does not lose precision in a float.
  const basisPoints = ((end - start + 1n) * 10000n) / (HASH_KEY_MAX + 1n);
  const percent = Number(basisPoints) / 100;
  return `${start} – ${end} (${percent}%)`;
}

/** A sequence-number range; an open shard has no ending number. */
export function formatSequenceRange(range) {
  if (!range || !range.StartingSequenceNumber) return "";
  return range.EndingSequenceNumber
    ? `${range.StartingSequenceNumber} – ${range.EndingSequenceNumber}`
    : `${range.StartingSequenceNumber} – (open)`;
}

/** Bytes of a base64 string (the API's encoding of record data). Throws on invalid input. */
export function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/** The base64 of some bytes. */
export function bytesToBase64(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Lower-case hex of some bytes. */
export function bytesToHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Record data for display. UTF-8 text without control characters (other than tab and newlines)
 * shows as text; anything else as hex and base64, because a terminal-hostile byte in a table
 * cell helps nobody.
 * Returns { kind: "text" | "binary", text, hex, base64 }.
 */
export function renderData(bytes) {
  const base64 = bytesToBase64(bytes);
  const hex = bytesToHex(bytes);
  let text = null;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = null;
  }
  // eslint-disable-next-line no-control-regex
  if (text !== null && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
    return { kind: "text", text, hex, base64 };
  }
  return { kind: "binary", text: hex, hex, base64 };
}

/** A byte count for people: "512 B", "1.5 KiB", "3.0 MiB". */
export function formatBytes(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Prometheus text exposition to samples: [{ name, labels: {…}, value }]. Comments and lines that
 * do not parse are skipped; label values may hold escaped quotes, backslashes and newlines.
 */
export function parsePrometheus(text) {
  const samples = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    const labelText = match[3] ?? "";
    const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (let label = labelPattern.exec(labelText); label; label = labelPattern.exec(labelText)) {
      labels[label[1]] = label[2].replace(/\\(.)/g, (_, escaped) => (escaped === "n" ? "\n" : escaped));
    }
    const value = Number(match[4]);
    if (Number.isNaN(value)) continue;
    samples.push({ name: match[1], labels, value });
  }
  return samples;
}

/**
 * Per-second rates between two readings of a cumulative counter. A counter that went down (a
 * restarted server) starts over from zero rather than charting a negative rate.
 */
export function counterRate(previous, current, seconds) {
  if (!(seconds > 0)) return 0;
  const delta = current >= previous ? current - previous : current;
  return delta / seconds;
}

/**
 * The y-axis top for a chart: the smallest 1, 2 or 5 times a power of ten at or above the
 * largest value, so gridlines land on round numbers. At least 1.
 */
export function niceCeiling(value) {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

/**
 * SVG polyline points for values over time in a width×height box: x from time (oldest at
 * `fromMs`, newest at `toMs`), y from value (0 at the bottom, `top` at the top).
 */
export function polylinePoints(samples, fromMs, toMs, top, width, height) {
  const span = Math.max(1, toMs - fromMs);
  return samples
    .map(({ atMs, value }) => {
      const x = ((atMs - fromMs) / span) * width;
      const y = height - (Math.min(value, top) / top) * height;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}
