// AWS Signature Version 4 for the console's API calls.
//
// The console signs every call for real, as an SDK would. When the server verifies nothing the
// credentials are placeholders and the signature only has to be well formed; with
// `--credentials`, the user's key and secret make it valid. Either way the request takes the
// same path through the server's authentication as any other client's.
//
// Hashing uses Web Crypto (crypto.subtle) where the browser offers it. Browsers offer it only to
// secure contexts (https, localhost, 127.0.0.1), so a console opened under another plain-http
// name (a LAN address, a name given with --allow-host) hashes with the SHA-256 below instead.

const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Web Crypto, or null outside a secure context. */
function subtle() {
  return globalThis.crypto?.subtle ?? null;
}

async function sha256(bytes, { useWebCrypto = true } = {}) {
  const webCrypto = useWebCrypto ? subtle() : null;
  return webCrypto ? new Uint8Array(await webCrypto.digest("SHA-256", bytes)) : sha256Bytes(bytes);
}

async function sha256Hex(bytes, options) {
  return hex(await sha256(bytes, options));
}

/** HMAC-SHA256 (RFC 2104) of a text message. */
export async function hmac(keyBytes, message, { useWebCrypto = true } = {}) {
  const webCrypto = useWebCrypto ? subtle() : null;
  const data = encoder.encode(message);
  if (webCrypto) {
    const key = await webCrypto.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await webCrypto.sign("HMAC", key, data));
  }
  const BLOCK_BYTES = 64;
  let key = keyBytes.length > BLOCK_BYTES ? sha256Bytes(keyBytes) : keyBytes;
  const padded = new Uint8Array(BLOCK_BYTES);
  padded.set(key);
  key = padded;
  const inner = new Uint8Array(BLOCK_BYTES + data.length);
  const outer = new Uint8Array(BLOCK_BYTES + 32);
  for (let index = 0; index < BLOCK_BYTES; index += 1) {
    inner[index] = key[index] ^ 0x36;
    outer[index] = key[index] ^ 0x5c;
  }
  inner.set(data, BLOCK_BYTES);
  outer.set(sha256Bytes(inner), BLOCK_BYTES);
  return sha256Bytes(outer);
}

/** The first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const ROUND_CONSTANTS = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 (FIPS 180-4) of some bytes, in plain JavaScript. */
export function sha256Bytes(bytes) {
  // The message, a 1 bit, zeros, and its length in bits (64-bit big-endian) fill whole blocks.
  const blocks = Math.ceil((bytes.length + 9) / 64);
  const message = new Uint8Array(blocks * 64);
  message.set(bytes);
  message[bytes.length] = 0x80;
  const view = new DataView(message.buffer);
  view.setUint32(message.length - 8, Math.floor(bytes.length / 0x20000000));
  view.setUint32(message.length - 4, (bytes.length * 8) >>> 0);
  const state = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const schedule = new Uint32Array(64);
  const rotate = (value, bits) => (value >>> bits) | (value << (32 - bits));
  for (let block = 0; block < blocks; block += 1) {
    for (let t = 0; t < 16; t += 1) schedule[t] = view.getUint32(block * 64 + t * 4);
    for (let t = 16; t < 64; t += 1) {
      const low = schedule[t - 15];
      const high = schedule[t - 2];
      const sigma0 = rotate(low, 7) ^ rotate(low, 18) ^ (low >>> 3);
      const sigma1 = rotate(high, 17) ^ rotate(high, 19) ^ (high >>> 10);
      schedule[t] = (schedule[t - 16] + sigma0 + schedule[t - 7] + sigma1) >>> 0;
    }
    let [a, b, c, d, e, f, g, h] = state;
    for (let t = 0; t < 64; t += 1) {
      const sum1 = rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25);
      const choose = (e & f) ^ (~e & g);
      const first = (h + sum1 + choose + ROUND_CONSTANTS[t] + schedule[t]) >>> 0;
      const sum0 = rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22);
      const majority = (a & b) ^ (a & c) ^ (b & c);
      const second = (sum0 + majority) >>> 0;
      h = g;
      g = f;
      f = e;
      e = (d + first) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (first + second) >>> 0;
    }
    const next = [a, b, c, d, e, f, g, h];
    for (let index = 0; index < 8; index += 1) state[index] = (state[index] + next[index]) >>> 0;
  }
  const digest = new Uint8Array(32);
  const out = new DataView(digest.buffer);
  for (let index = 0; index < 8; index += 1) out.setUint32(index * 4, state[index]);
  return digest;
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
  useWebCrypto = true,
}) {
  const options = { useWebCrypto };
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
    await sha256Hex(encoder.encode(body), options),
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    date,
    scope,
    await sha256Hex(encoder.encode(canonicalRequest), options),
  ].join("\n");
  let key = encoder.encode(`AWS4${secretKey}`);
  for (const part of [day, region, service, "aws4_request"]) key = await hmac(key, part, options);
  const signature = hex(await hmac(key, stringToSign, options));
  return {
    "X-Amz-Date": date,
    Authorization:
      `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${signedNames}, Signature=${signature}`,
  };
}
