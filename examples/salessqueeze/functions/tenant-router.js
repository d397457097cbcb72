// SaleSqueeze tenant router (viewer request, cloudfront-js-2.0).
//
// Each tenant's site is a set of immutable pages under /<tenant>/<version>/ in the buckets; the
// KeyValueStore holds one pointer per host, e.g. acme.example.com -> acme/v2. Publishing a new
// version is one PutKey of the pointer; it takes effect at each POP as the write reaches it.
// Because the rewritten URI names the version, the cache key changes with the pointer: no
// invalidation is needed, and old versions stay cached for viewers still routed to them.
//
// Fail-secure: a host without a pointer gets a 404, a pointer that is not <tenant>/<version> a
// 503, a URI with a dot segment a 400, and none of them reaches the buckets. Falling through to
// the origin would expose the bucket's other tenants (the URI would not be confined to one
// tenant's prefix).
import cf from 'cloudfront';

const kvs = cf.kvs();
const HOST = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;
const POINTER = /^[a-z0-9][a-z0-9-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;
// A '.' or '..' segment, also percent-encoded or between encoded slashes: refused, so that no
// normalisation on the way can take a request out of its tenant's prefix.
const DOT_SEGMENT = /(^|\/|%2f)(\.|%2e){1,2}(\/|%2f|$)/i;

function reply(status, description) {
  return {
    statusCode: status,
    statusDescription: description,
    headers: { 'cache-control': { value: 'no-store' } },
  };
}

async function handler(event) {
  const request = event.request;
  const header = request.headers.host;
  const host = header ? header.value.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '') : '';
  if (!HOST.test(host)) {
    return reply(404, 'Not Found');
  }
  let pointer;
  try {
    pointer = await kvs.get(host);
  } catch (err) {
    // kvs.get throws for a missing key (and a failed read): no site here.
    return reply(404, 'Not Found');
  }
  if (!POINTER.test(pointer)) {
    return reply(503, 'Service Unavailable');
  }
  if (DOT_SEGMENT.test(request.uri)) {
    return reply(400, 'Bad Request');
  }
  // The URI stays as the viewer encoded it (a space arrives as %20): the signer encodes it once.
  const path = request.uri === '/' ? '/index.html' : request.uri;
  request.uri = '/' + pointer + path;
  return request;
}
