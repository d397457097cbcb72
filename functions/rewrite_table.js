// Rewrite table kept in the KeyValueStore: one key per old path, so the table can hold thousands
// of entries and be edited without republishing the function.
//   rw:<path>          for paths of up to 256 UTF-8 bytes (the key stays under KVS's 512-byte cap)
//   rwh:<sha256 hex>   for longer paths: the SHA-256 of the path, in lower-case hex
// Paths always start with '/', so the two key spaces cannot collide. A value is either
//   /new/path                    an internal rewrite (the viewer's URL does not change), or
//   301 /new/path | 302 https://… a redirect with that status (301, 302, 307 or 308); the viewer's
//                                query string is carried over.
// Anything else in a value is ignored with a log line. A path with no entry, or a store that cannot
// be read, leaves the request unchanged (fail-open: a broken table never breaks the site).
import cf from 'cloudfront';
import crypto from 'crypto';

const MAX_PLAIN_BYTES = 256;
// Targets must not hold spaces or control characters (CloudFront would fail the request with a
// validation error); a rewritten URI must not carry a query or a fragment either.
const REDIRECT = /^(301|302|307|308) ((\/|https:\/\/)[^\s#\x00-\x1f\x7f]*)$/;
const REWRITE = /^\/[^\s?#\x00-\x1f\x7f]*$/;
const STATUS_TEXT = { 301: 'Moved Permanently', 302: 'Found', 307: 'Temporary Redirect',
  308: 'Permanent Redirect' };

function tableKey(path) {
  if (Buffer.byteLength(path, 'utf8') <= MAX_PLAIN_BYTES) {
    return 'rw:' + path;
  }
  return 'rwh:' + crypto.createHash('sha256').update(path).digest('hex');
}

// Rebuild the viewer's query string (rawQueryString() is '' under TestFunction, so use the object).
function queryOf(querystring) {
  const parts = [];
  Object.keys(querystring).forEach(function (name) {
    const entry = querystring[name];
    const values = entry.multiValue ? entry.multiValue : [entry];
    for (let i = 0; i < values.length; i++) {
      parts.push(values[i].value === '' ? name : name + '=' + values[i].value);
    }
  });
  return parts.join('&');
}

async function handler(event) {
  const request = event.request;
  const key = tableKey(request.uri);
  let target;
  try {
    const kvs = cf.kvs();
    target = await kvs.get(key);
  } catch (err) {
    // Missing key = no rule. Any other read failure also falls back to the original path.
    return request;
  }
  if (REWRITE.test(target)) {
    request.uri = target;
    return request;
  }
  const redirect = REDIRECT.exec(target);
  if (!redirect) {
    console.log('rewrite table: ignoring malformed entry for ' + key);
    return request;
  }
  const query = queryOf(request.querystring);
  let location = redirect[2];
  if (query) {
    location += (location.indexOf('?') < 0 ? '?' : '&') + query;
  }
  const status = parseInt(redirect[1], 10);
  return {
    statusCode: status,
    statusDescription: STATUS_TEXT[status],
    headers: { location: { value: location }, 'cache-control': { value: 'max-age=3600' } },
  };
}
