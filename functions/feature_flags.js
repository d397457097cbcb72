// Per-surface feature flags. Each client surface (web, ios, android, …) has one KeyValueStore key:
//   flags:<surface>  {"new-checkout": true, "dark-mode": false}
// The surface comes from the `x-surface` header the apps send (absent or empty: `web`). The
// function forwards the flags that are exactly `true` as `x-features: dark-mode,new-checkout`
// (sorted, so the header is stable enough to be part of the cache key); with no flag on, the
// header is absent.
// A viewer-sent x-features header is always removed: flags are decided here, not by the client.
// Unknown surfaces, malformed entries and any KVS failure mean "every flag off" and the request
// still goes through (fail-open: flags only ever add behaviour).
import cf from 'cloudfront';

const SURFACE = /^[a-z0-9-]{1,32}$/;
const FLAG = /^[a-z0-9-]{1,40}$/;
const MAX_FLAGS = 64;

function surfaceOf(headers) {
  const header = headers['x-surface'];
  const surface = header ? header.value.trim().toLowerCase() : '';
  return surface || 'web';
}

function enabledFlags(flags) {
  if (!flags || typeof flags !== 'object' || Array.isArray(flags)) {
    return [];
  }
  const names = Object.keys(flags).filter(function (name) {
    return flags[name] === true && FLAG.test(name);
  });
  return names.sort().slice(0, MAX_FLAGS);
}

async function handler(event) {
  const request = event.request;
  delete request.headers['x-features'];
  const surface = surfaceOf(request.headers);
  if (!SURFACE.test(surface)) {
    return request;
  }
  let flags;
  try {
    const kvs = cf.kvs();
    flags = await kvs.get('flags:' + surface, { format: 'json' });
  } catch (err) {
    // Unknown surface (missing key) or unreadable store: every flag stays off.
    return request;
  }
  const enabled = enabledFlags(flags);
  if (enabled.length > 0) {
    request.headers['x-features'] = { value: enabled.join(',') };
  }
  return request;
}
