// Rate-limit bucketing: every request gets `x-rate-bucket: <16 hex digits>`, the same for all
// addresses of one network, so the origin (or a WAF rate rule keyed on the header) counts per
// network rather than per address. A viewer with many IPv6 addresses (one /64 is a single
// subscriber) or a NAT pool in one IPv4 /24 then lands in one bucket.
// The prefix lengths and a salt live in the KeyValueStore:
//   ratelimit:config  {"v4": 24, "v6": 64, "salt": "2026-q1"}
// The bucket is the first 16 hex digits of SHA-256(salt | family | masked address | prefix), so
// the header does not reveal the network, and changing the salt reshuffles all buckets.
// IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as IPv4; an address that does not parse is bucketed by
// its text. A viewer-sent x-rate-bucket header is always replaced.
// Fail-open: if the config cannot be read (or a field is invalid), /24, /64 and an empty salt are
// used, so every request still gets a bucket.
import cf from 'cloudfront';
import crypto from 'crypto';

const DEFAULTS = { v4: 24, v6: 64, salt: '' };
const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX16 = /^[0-9a-f]{1,4}$/;

function parseV4(text) {
  const m = V4.exec(text);
  if (!m) {
    return null;
  }
  const out = [];
  for (let i = 1; i <= 4; i++) {
    const n = parseInt(m[i], 10);
    if (n > 255) {
      return null;
    }
    out.push(n);
  }
  return out;
}

// 16-bit groups of one side of an IPv6 address; a dotted quad may end the address.
function groups(parts, lastMayBeV4) {
  const out = [];
  for (let i = 0; i < parts.length; i++) {
    const last = i === parts.length - 1;
    if (last && lastMayBeV4 && parts[i].indexOf('.') >= 0) {
      const v4 = parseV4(parts[i]);
      if (!v4) {
        return null;
      }
      out.push(v4[0] * 256 + v4[1], v4[2] * 256 + v4[3]);
    } else if (HEX16.test(parts[i])) {
      out.push(parseInt(parts[i], 16));
    } else {
      return null;
    }
  }
  return out;
}

function parseV6(text) {
  const gap = text.indexOf('::');
  let left;
  let right = [];
  if (gap < 0) {
    left = groups(text.split(':'), true);
  } else {
    if (text.indexOf('::', gap + 1) >= 0) {
      return null;
    }
    left = gap === 0 ? [] : groups(text.slice(0, gap).split(':'), false);
    right = gap + 2 === text.length ? [] : groups(text.slice(gap + 2).split(':'), true);
  }
  if (!left || !right) {
    return null;
  }
  const missing = 8 - left.length - right.length;
  if ((gap < 0 && missing !== 0) || (gap >= 0 && missing < 1)) {
    return null;
  }
  const words = left.concat(new Array(missing).fill(0), right);
  const out = [];
  for (let i = 0; i < 8; i++) {
    out.push(words[i] >> 8, words[i] & 255);
  }
  return out;
}

// Address bytes (4 for IPv4, 16 for IPv6; IPv4-mapped IPv6 counts as IPv4), or null.
function parseIp(text) {
  const lower = String(text).toLowerCase();
  if (lower.indexOf(':') < 0) {
    return parseV4(lower);
  }
  const bytes = parseV6(lower.split('%')[0]);
  if (bytes && bytes.slice(0, 10).every(function (b) { return b === 0; }) &&
      bytes[10] === 255 && bytes[11] === 255) {
    return bytes.slice(12);
  }
  return bytes;
}

function hex(bytes, bits) {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const keep = bits >= 8 ? 8 : Math.max(bits, 0);
    const masked = bytes[i] & ((0xff << (8 - keep)) & 0xff);
    out += (masked < 16 ? '0' : '') + masked.toString(16);
    bits -= 8;
  }
  return out;
}

function prefixLength(value, max, fallback) {
  return Number.isInteger(value) && value >= 0 && value <= max ? value : fallback;
}

// The config as stored, each field checked; defaults where the store or a field fails.
async function readConfig() {
  let stored = null;
  try {
    const kvs = cf.kvs();
    stored = await kvs.get('ratelimit:config', { format: 'json' });
  } catch (err) {
    console.log('rate-limit config unavailable, using defaults: ' + err.message);
  }
  if (!stored || typeof stored !== 'object') {
    return DEFAULTS;
  }
  return {
    v4: prefixLength(stored.v4, 32, DEFAULTS.v4),
    v6: prefixLength(stored.v6, 128, DEFAULTS.v6),
    salt: typeof stored.salt === 'string' ? stored.salt : DEFAULTS.salt,
  };
}

function networkOf(ip, config) {
  const bytes = parseIp(ip);
  if (!bytes) {
    return 'raw:' + ip;
  }
  const bits = bytes.length === 4 ? config.v4 : config.v6;
  return (bytes.length === 4 ? 'v4:' : 'v6:') + hex(bytes, bits) + '/' + bits;
}

async function handler(event) {
  const request = event.request;
  const config = await readConfig();
  const network = networkOf(String(event.viewer.ip), config);
  const digest = crypto.createHash('sha256').update(config.salt + '|' + network).digest('hex');
  request.headers['x-rate-bucket'] = { value: digest.slice(0, 16) };
  return request;
}
