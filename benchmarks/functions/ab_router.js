// A/B router (benchmark function, cloudfront-js-2.0). The experiment's configuration is JSON in
// the KeyValueStore under "ab:config":
//   {"prefix": "/shop", "salt": "2026-q4", "variants": [{"name": "blue", "weight": 60, "path": "/b"},
//    {"name": "green", "weight": 40, "path": "/g"}], "stripParams": "utm_"}
// A viewer's variant comes from an FNV-1a hash of their `uid` cookie (salted), so it is stable
// across requests and edges. The URI gets the variant's path prefix, tracking parameters
// (utm_*) are stripped from the query, and the chosen variant travels to the origin as a header.
// Without a uid cookie, or when the configuration cannot be read, the request passes unchanged.
import cf from 'cloudfront';

const kvs = cf.kvs();
const CONFIG_KEY = 'ab:config';

// 32-bit FNV-1a over the UTF-16 code units of `text`.
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function chooseVariant(variants, bucket) {
  let total = 0;
  for (let i = 0; i < variants.length; i++) {
    total += variants[i].weight;
  }
  if (total <= 0) {
    return null;
  }
  let point = bucket % total;
  for (let i = 0; i < variants.length; i++) {
    if (point < variants[i].weight) {
      return variants[i];
    }
    point -= variants[i].weight;
  }
  return null;
}

function stripTracking(querystring, prefix) {
  const kept = {};
  let removed = 0;
  for (const name in querystring) {
    if (name.toLowerCase().startsWith(prefix)) {
      removed++;
    } else {
      kept[name] = querystring[name];
    }
  }
  return { kept: kept, removed: removed };
}

async function handler(event) {
  const request = event.request;
  const cookie = request.cookies.uid;
  if (!cookie || !cookie.value) {
    return request;
  }
  let config;
  try {
    config = await kvs.get(CONFIG_KEY, { format: 'json' });
  } catch (err) {
    console.log('ab: no configuration (' + err.message + ')');
    return request;
  }
  if (!config || !Array.isArray(config.variants) || !request.uri.startsWith(config.prefix)) {
    return request;
  }
  const bucket = fnv1a((config.salt || '') + ':' + cookie.value) % 10000;
  const variant = chooseVariant(config.variants, bucket);
  if (!variant) {
    return request;
  }
  const stripped = stripTracking(request.querystring, config.stripParams || 'utm_');
  request.querystring = stripped.kept;
  request.uri = variant.path + request.uri;
  request.headers['x-ab-variant'] = { value: variant.name };
  request.headers['x-ab-bucket'] = { value: String(bucket) };
  if (stripped.removed > 0) {
    request.headers['x-ab-stripped'] = { value: String(stripped.removed) };
  }
  return request;
}
