'use strict';
// SaleSqueeze origin-request signer (Lambda@Edge, Node.js).
//
// The buckets are private and reached through an S3 Multi-Region Access Point, which accepts only
// SigV4A (one signature valid in every region of the access point). This function signs each
// request CloudFront is about to send to the MRAP, with the execution role's credentials from
// the environment, as any Lambda code would. (CloudFront's origin access control can now sign
// for an MRAP too, except when one of its buckets is in an opt-in Region: Developer Guide,
// "Restrict access to an Amazon S3 Multi-Region Access Point origin". This is the Lambda@Edge
// way, which set-ups used before OAC supported MRAPs.)
//
// @smithy/signature-v4a is the AWS SDK's own SigV4A signer, in plain JavaScript (it carries its
// P-256 code with it): no CRT native module, so the package deploys as it is installed.
const crypto = require('node:crypto');
const { SignatureV4a } = require('@smithy/signature-v4a');

// The SDK's hash interface (new Hash(secret?) → update → digest), on Node's crypto: HMAC with a
// secret, SHA-256 without.
class Sha256 {
  constructor(secret) {
    this.hash = secret ? crypto.createHmac('sha256', secret) : crypto.createHash('sha256');
  }
  update(data) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

const signer = new SignatureV4a({
  service: 's3',
  region: '*', // the region set: any region of the access point may answer
  sha256: Sha256,
  // S3 signs the path encoded once. The SDK's default (true) encodes the path it is given again,
  // which is right for other services and turns an S3 key's %20 into %2520.
  uriEscapePath: false,
  // Read per request, as the SDK's environment provider does: Lambda may rotate the role's keys.
  credentials: async () => {
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN } = process.env;
    if (!AWS_ACCESS_KEY_ID || !AWS_SECRET_ACCESS_KEY) {
      // Lambda always sets them (the execution role's keys); a local runner may not.
      throw new Error('sign: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
    }
    return {
      accessKeyId: AWS_ACCESS_KEY_ID,
      secretAccessKey: AWS_SECRET_ACCESS_KEY,
      sessionToken: AWS_SESSION_TOKEN || undefined,
    };
  },
});

const MRAP_HOST = /^[a-z0-9]+\.mrap\.accesspoint\.s3-global\.amazonaws\.com$/;

let invocations = 0; // per worker, as module state lives per Lambda instance

const UNRESERVED = /[A-Za-z0-9\-._~\/]/;
const HEX = /^[0-9A-Fa-f]{2}$/;

// The path S3 computes from what it receives, and so the one to sign: percent-decoded to bytes,
// then each byte but A-Z a-z 0-9 - . _ ~ and / encoded once, as %XX. The URI arrives as the
// viewer encoded it: signing it as it is would break on ( ) ! and friends, or on %7e.
function canonicalPath(uri) {
  const raw = Buffer.from(uri, 'utf8');
  const bytes = [];
  for (let i = 0; i < raw.length; i += 1) {
    const escape = raw[i] === 0x25 ? raw.subarray(i + 1, i + 3).toString('latin1') : '';
    if (HEX.test(escape)) {
      bytes.push(parseInt(escape, 16));
      i += 2;
    } else {
      bytes.push(raw[i]); // not an escape (a lone %): the byte itself, as S3 reads it
    }
  }
  let path = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    path += byte < 0x80 && UNRESERVED.test(char)
      ? char
      : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return path;
}

function queryOf(querystring) {
  const query = {};
  for (const pair of querystring ? querystring.split('&') : []) {
    const at = pair.indexOf('=');
    const name = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1));
    query[name] = name in query ? [].concat(query[name], value) : value;
  }
  return query;
}

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  // The MRAP may be set up as an S3 origin or as a custom origin: sign either, and nothing else
  // (a failover origin that is a plain bucket or a web server goes out as it is).
  const origin = request.origin.s3 || request.origin.custom;
  if (!MRAP_HOST.test(origin.domainName)) {
    return request;
  }
  invocations += 1;
  // Sign only what S3 requires (host and the x-amz-* headers this adds): CloudFront still adds
  // or changes headers such as Via and X-Forwarded-For after this function, and X-Amz-Cf-Id.
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: origin.domainName,
      path: canonicalPath(request.uri),
      query: queryOf(request.querystring),
      headers: { host: origin.domainName },
    },
    {},
  );
  for (const [name, value] of Object.entries(signed.headers)) {
    const lower = name.toLowerCase();
    if (lower !== 'host') {
      request.headers[lower] = [{ key: name, value: value }];
    }
  }
  console.log(`signed ${request.method} ${request.uri} for ${origin.domainName} ` +
    `in ${process.env.AWS_REGION} (invocation ${invocations} of this instance)`);
  return request;
};
