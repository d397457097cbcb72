// Bypass list for the origin's bot challenge: trusted viewers skip it. The function marks them
// with `x-bypass-challenge: <reason>`; the origin challenges every request without the header.
// Two lists in the KeyValueStore:
//   bypass:ip:<viewer ip>  {"bypass": true, "reason": "uptime-monitor", "until": 1798761600}
//                          one key per address (lower-case text as CloudFront gives it); `until`
//                          (epoch seconds) is optional and ends a temporary entry.
//   bypass:bots            [{"name": "googlebot", "ua": "googlebot", "cidrs": ["66.249.64.0/19"]}]
//                          a verified bot needs BOTH its user-agent token and an address in one
//                          of its published ranges (IPv4 or IPv6): user agents are easily faked.
// Fail-secure: a bypass is granted only from an entry that was read and checked. A store that is
// missing, unreadable or holds anything unexpected grants nothing, and a viewer-sent
// x-bypass-challenge header is always removed so it cannot be forged.
import cf from 'cloudfront';

const HEADER = 'x-bypass-challenge';
const REASON = /^[a-z0-9-]{1,40}$/;
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

function inRange(addr, cidr) {
  if (typeof cidr !== 'string') {
    return false;
  }
  const slash = cidr.indexOf('/');
  if (slash < 0) {
    return false;
  }
  const net = parseIp(cidr.slice(0, slash));
  let bits = parseInt(cidr.slice(slash + 1), 10);
  if (!net || net.length !== addr.length || !(bits >= 0 && bits <= net.length * 8)) {
    return false;
  }
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 255 : (0xff << (8 - bits)) & 0xff;
    if ((addr[i] & mask) !== (net[i] & mask)) {
      return false;
    }
  }
  return true;
}

function ipGrant(entry, nowSeconds) {
  if (!entry || entry.bypass !== true) {
    return null;
  }
  if (entry.until !== undefined && !(typeof entry.until === 'number' && nowSeconds < entry.until)) {
    return null;
  }
  return REASON.test(entry.reason) ? entry.reason : 'listed';
}

function botGrant(bots, userAgent, addr) {
  if (!Array.isArray(bots) || !addr) {
    return null;
  }
  const ua = userAgent.toLowerCase();
  for (let i = 0; i < bots.length; i++) {
    const bot = bots[i];
    if (!bot || typeof bot.ua !== 'string' || bot.ua.length < 3 || !Array.isArray(bot.cidrs) ||
        ua.indexOf(bot.ua.toLowerCase()) < 0 || !REASON.test(bot.name)) {
      continue;
    }
    if (bot.cidrs.some(function (cidr) { return inRange(addr, cidr); })) {
      return bot.name;
    }
  }
  return null;
}

async function handler(event) {
  const request = event.request;
  delete request.headers[HEADER];
  const ip = String(event.viewer.ip).toLowerCase();
  let kvs;
  try {
    kvs = cf.kvs();
  } catch (err) {
    console.log('bypass: no store, no bypass');
    return request;
  }
  let reason = null;
  try {
    const entry = await kvs.get('bypass:ip:' + ip, { format: 'json' });
    reason = ipGrant(entry, Date.now() / 1000);
  } catch (err) {
    // Not listed (or unreadable): this list grants nothing.
  }
  const agent = request.headers['user-agent'];
  if (!reason && agent) {
    try {
      const bots = await kvs.get('bypass:bots', { format: 'json' });
      reason = botGrant(bots, agent.value, parseIp(ip));
    } catch (err) {
      console.log('bypass: bot list unreadable, no bypass: ' + err.message);
    }
  }
  if (reason) {
    request.headers[HEADER] = { value: reason };
  }
  return request;
}
