// AWS Signature Version 4 for the console's API calls, with Web Crypto (crypto.subtle).
//
// The console signs every call for real, as an SDK would. When the server verifies nothing the
// credentials are placeholders and the signature only has to be well formed; with
// `--credentials`, the user's key and secret make it valid. Either way the request takes the
// same path through the server's authentication as any other client's.

const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function sha256Hex(bytes) {
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

async function hmac(keyBytes, message) {
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

/** `20150830T123600Z` for a Date. */
export function amzDate(date) {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/**
 * The headers that sign a request of `method` (POST by default) with `body` to `path` (`/` by
 * default, no query string) on `host`: `X-Amz-Date` and `Authorization`. `headers` are the other
 * headers to sign (lower-case names), for instance content-type and x-amz-target; `host` is
 * signed too, as browsers send it themselves.
 */
export async function signedHeaders({
  accessKey, secretKey, region, service, host, headers = {}, body = "", now, method = "POST", path = "/",
}) {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const all = { ...headers, host, "x-amz-date": date };
  const names = Object.keys(all).map((name) => name.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([name, value]) => [name.toLowerCase(), value]));
  const canonicalHeaders = names
    .map((name) => `${name}:${String(lower[name]).trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const signedNames = names.join(";");
  const canonicalRequest = [
    method,
    path,
    "",
    canonicalHeaders,
    signedNames,
    await sha256Hex(encoder.encode(body)),
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    date,
    scope,
    await sha256Hex(encoder.encode(canonicalRequest)),
  ].join("\n");
  let key = encoder.encode(`AWS4${secretKey}`);
  for (const part of [day, region, service, "aws4_request"]) key = await hmac(key, part);
  const signature = hex(await hmac(key, stringToSign));
  return {
    "X-Amz-Date": date,
    Authorization:
      `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${signedNames}, Signature=${signature}`,
  };
}
