// Multi-tenant SaaS routing: the viewer's Host picks a tenant, the tenant picks an origin. Two
// KeyValueStore key spaces, so a tenant's many hosts share one record (the pointer indirection)
// and moving a tenant is a single write:
//   host:<host>      the tenant id, e.g. host:shop.acme.com -> acme
//   host:*.<domain>  a wildcard for the subdomains of <domain> (tried when the exact host is not
//                    listed): host:*.acme.saas.example -> acme
//   tenant:<id>      {"originId": "origin-eu-1"}  -> cf.selectRequestOriginById (an origin of
//                    this distribution), or
//                    {"domainName": "acme.origin.example.net", "originPath": "/acme"}
//                    -> cf.updateRequestOrigin (any HTTPS endpoint)
// The host is lower-cased and loses any port and trailing dot. The tenant id goes to the origin
// as `x-tenant-id`; a viewer-sent x-tenant-id is always removed.
// Fail-closed: a request is only forwarded after it was routed from a valid tenant record; it
// never falls through to the distribution's default origin, which would mix tenants. A host with
// no entry (or whose entry cannot be read) gets 404; a dangling pointer, a malformed record or a
// missing store gets 503.
import cf from 'cloudfront';

const HOST = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;
const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ORIGIN_ID = /^[A-Za-z][A-Za-z0-9._-]{0,127}$/;
const DOMAIN = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/;
const DOTTED_QUAD = /^[0-9.]+$/;
const ORIGIN_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

function reply(status, text) {
  return {
    statusCode: status,
    statusDescription: text,
    headers: { 'cache-control': { value: 'no-store' } },
  };
}

function hostOf(request) {
  const header = request.headers.host;
  const host = header ? header.value.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '') : '';
  return host.length <= 253 && HOST.test(host) ? host : null;
}

async function tenantOf(kvs, host) {
  try {
    return await kvs.get('host:' + host);
  } catch (err) {
    // Not listed (or unreadable): try the wildcard for the parent domain.
  }
  const parent = host.slice(host.indexOf('.') + 1);
  if (parent.indexOf('.') < 0) {
    return null;
  }
  try {
    return await kvs.get('host:*.' + parent);
  } catch (err) {
    return null;
  }
}

// Routes the request from a tenant record; false if the record is not one.
function route(record) {
  if (!record || typeof record !== 'object') {
    return false;
  }
  if (typeof record.originId === 'string' && ORIGIN_ID.test(record.originId)) {
    cf.selectRequestOriginById(record.originId);
    return true;
  }
  const domain = record.domainName;
  if (typeof domain !== 'string' || domain.length > 253 || !DOMAIN.test(domain) ||
      DOTTED_QUAD.test(domain)) {
    return false;
  }
  const origin = { domainName: domain };
  if (record.originPath !== undefined) {
    if (typeof record.originPath !== 'string' || record.originPath.length > 255 ||
        !ORIGIN_PATH.test(record.originPath)) {
      return false;
    }
    origin.originPath = record.originPath;
  }
  cf.updateRequestOrigin(origin);
  return true;
}

async function handler(event) {
  const request = event.request;
  delete request.headers['x-tenant-id'];
  const host = hostOf(request);
  if (!host) {
    return reply(404, 'Not Found');
  }
  let kvs;
  try {
    kvs = cf.kvs();
  } catch (err) {
    console.log('tenant routing: no store');
    return reply(503, 'Service Unavailable');
  }
  const tenant = await tenantOf(kvs, host);
  if (tenant === null) {
    return reply(404, 'Not Found');
  }
  if (!TENANT.test(tenant)) {
    console.log('tenant routing: bad tenant id for ' + host);
    return reply(503, 'Service Unavailable');
  }
  let record;
  try {
    record = await kvs.get('tenant:' + tenant, { format: 'json' });
  } catch (err) {
    console.log('tenant routing: no record for tenant ' + tenant);
    return reply(503, 'Service Unavailable');
  }
  if (!route(record)) {
    console.log('tenant routing: malformed record for tenant ' + tenant);
    return reply(503, 'Service Unavailable');
  }
  request.headers['x-tenant-id'] = { value: tenant };
  return request;
}
