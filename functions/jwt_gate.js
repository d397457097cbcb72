// JWT gate: only requests with a valid HS256 JSON Web Token reach the origin.
// The token comes from `Authorization: Bearer <jwt>` or, failing that, the `jwt` cookie. Its
// header must say {"alg": "HS256", "kid": "<key id>"}; the signing key is looked up in the
// KeyValueStore under
//   jwt:key:<kid>   the key bytes in unpadded base64url, at least 32 bytes (256 bits)
// so keys rotate without republishing: add the new kid, sign new tokens with it, and delete the
// old kid once the tokens it signed have expired (from then on they are refused).
// Claims: `exp` is required and `nbf` is honoured, both in epoch seconds against Date.now(), with
// no leeway. The signature is compared as text in constant time (no early exit), and the payload
// is only parsed after the signature checks out.
// On success the request goes on with `x-jwt-sub` (the token's subject) set; a viewer-sent
// x-jwt-sub is always removed. Everything else gets a 401, including any KVS failure
// (fail-secure: an unreadable or malformed key never lets a request through).
import cf from 'cloudfront';
import crypto from 'crypto';

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const KID = /^[A-Za-z0-9._-]{1,64}$/;
const SUBJECT = /^[\x21-\x7e]{1,128}$/;
const MAX_TOKEN_CHARS = 4096;
const MIN_KEY_BYTES = 32;

function deny(reason, detail) {
  console.log('jwt gate: ' + reason);
  const challenge = detail ? 'Bearer error="invalid_token"' : 'Bearer';
  return {
    statusCode: 401,
    statusDescription: 'Unauthorized',
    headers: {
      'www-authenticate': { value: challenge },
      'cache-control': { value: 'no-store' },
    },
  };
}

function tokenOf(request) {
  const auth = request.headers.authorization;
  if (auth && auth.value.slice(0, 7).toLowerCase() === 'bearer ') {
    return auth.value.slice(7).trim();
  }
  const cookie = request.cookies.jwt;
  return cookie ? cookie.value : '';
}

function decodeJson(segment) {
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch (err) {
    return null;
  }
}

// Compares every character whatever the first difference, so the time taken does not reveal
// how much of a forged signature was right. Lengths are public (always 43 for HS256).
function sameText(a, b) {
  if (a.length !== b.length) {
    return false;
  }
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  }
  return diff === 0;
}

async function handler(event) {
  const request = event.request;
  delete request.headers['x-jwt-sub'];
  const token = tokenOf(request);
  if (!token) {
    return deny('no token', false);
  }
  const parts = token.split('.');
  if (token.length > MAX_TOKEN_CHARS || parts.length !== 3 ||
      !parts.every(function (p) { return SEGMENT.test(p); })) {
    return deny('malformed token', true);
  }
  const header = decodeJson(parts[0]);
  if (!header || header.alg !== 'HS256' || typeof header.kid !== 'string' ||
      !KID.test(header.kid)) {
    return deny('unsupported token header', true);
  }
  let encodedKey;
  try {
    const kvs = cf.kvs();
    encodedKey = await kvs.get('jwt:key:' + header.kid);
  } catch (err) {
    return deny('no usable key for kid ' + header.kid, true);
  }
  const key = SEGMENT.test(encodedKey) ? Buffer.from(encodedKey, 'base64url') : null;
  if (!key || key.length < MIN_KEY_BYTES) {
    return deny('key for kid ' + header.kid + ' is malformed or too short', true);
  }
  const expected = crypto.createHmac('sha256', key)
    .update(parts[0] + '.' + parts[1])
    .digest('base64url');
  if (!sameText(expected, parts[2])) {
    return deny('bad signature', true);
  }
  const claims = decodeJson(parts[1]);
  const now = Date.now() / 1000;
  if (!claims || typeof claims.exp !== 'number' || now >= claims.exp) {
    return deny('expired or no exp', true);
  }
  if (claims.nbf !== undefined && !(typeof claims.nbf === 'number' && now >= claims.nbf)) {
    return deny('not yet valid', true);
  }
  if (typeof claims.sub === 'string' && SUBJECT.test(claims.sub)) {
    request.headers['x-jwt-sub'] = { value: claims.sub };
  }
  return request;
}
