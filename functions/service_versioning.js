// Path-prefix service versioning: the first path segment names a service, and the KeyValueStore
// says which deployed version (an origin of this distribution) serves it:
//   svc:/blog  ->  blog-v2      (so /blog, /blog/ and /blog/2026/hello all go to origin blog-v2)
// Releasing blog-v3 is one KVS write; rolling back is another. The URI is not changed; the
// version also goes to the origin as `x-service-version` (a viewer-sent one is removed).
// Only the first segment is looked up, so each request costs one KVS read.
// A path whose service has no entry falls through to the cache behaviour's own origin. A store
// that cannot be read, or an entry that is not an origin id, does the same (fail-open: the
// default origin answers, as it would without this function).
import cf from 'cloudfront';

const SERVICE = /^\/([a-z0-9][a-z0-9-]{0,62})(\/|$)/;
const ORIGIN_ID = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;

async function handler(event) {
  const request = event.request;
  delete request.headers['x-service-version'];
  const match = SERVICE.exec(request.uri);
  if (!match) {
    return request;
  }
  let version;
  try {
    const kvs = cf.kvs();
    version = await kvs.get('svc:/' + match[1]);
  } catch (err) {
    // No entry for this service (or no readable store): the default origin serves it.
    return request;
  }
  if (!ORIGIN_ID.test(version)) {
    console.log('service versioning: ignoring malformed entry for /' + match[1]);
    return request;
  }
  cf.selectRequestOriginById(version);
  request.headers['x-service-version'] = { value: version };
  return request;
}
