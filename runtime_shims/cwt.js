// `cf.cwt` of the `cloudfront` module (runtime cloudfront-js-2.0): CBOR Web Tokens (RFC 8392) in
// a COSE_Mac0 structure (RFC 8152 §6.2) with HMAC-SHA256. AWS docs, "CWT support for CloudFront
// Functions" (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
// cwt-support-cloudfront-functions.html):
// - only MAC0 with HS256 (HMAC-SHA256), at most 1 KB per token;
// - token = optional CWT tag 61 around the required COSE_Mac0 tag 17 around
//   [protected (bstr holding an encoded map), unprotected (map), payload (bstr holding the
//   encoded claims map), tag (bstr)];
// - validateToken(token, {key}) is synchronous, takes a Buffer and a string or Buffer key,
//   returns {protectedHeaders, unprotectedHeaders, payload} with every map key as a string,
//   throws on any failure and checks no claim (exp, nbf, ... are the caller's job);
// - generateToken(generatorContext, payload) returns a Buffer. Every AWS example calls it as
//   (payload, generatorContext), so the argument holding `coseTag` is taken as the context.
//
// The MAC is HMAC-SHA256 (full 32-byte tag, COSE algorithm 5) over the CBOR encoding of
// MAC_structure = ["MAC0", protected bstr, external_aad = h'', payload bstr] (RFC 8152 §6.3).
//
// Choices the docs leave open (unverified, see docs/runtime.md):
// - map keys: decoding turns integer keys into their decimal strings (1 -> "1"); encoding turns a
//   string in canonical integer form within the safe-integer range ("1", "-3", not "01" or "-0")
//   back into a CBOR integer, everywhere (headers, claims, nested maps); other keys stay text.
//   A map whose keys collide as strings (1 and "1") is rejected;
// - generateToken adds the protected header 1 (alg): 5 when the protected map lacks key "1"; an
//   alg other than 5 (or the string "5" of AWS's own example) is rejected on both sides, and
//   validateToken requires alg in the protected headers;
// - the payload object may name its headers protectedHeaders/unprotectedHeaders (what
//   validateToken returns, as AWS's token-refresh example passes back) instead of
//   protected/unprotected;
// - byte strings decode to Buffers; nested tags are dropped (their content is kept); integers
//   beyond 2^53 lose precision; floats decode to numbers; a non-integer number encodes as a
//   float64; undefined encodes as CBOR undefined;
// - the size limit (1 KB, shims.limits.cwtTokenBytes) applies to generated tokens too; nesting is
//   limited to 64.
//
// Like every shim this file only uses built-ins captured at load time (intrinsics.js), so user
// code that redefines built-ins cannot change it, and it defines map keys and array elements
// with defineProperty, so a "__proto__" key or a setter on a prototype has no effect.

var I = shims.intrinsics;
var utf8 = shims.text.utf8;
var Buffer = shims.buffer.Buffer;
var bufferFrom = Buffer.from;
// The HMAC of crypto.js, through a crypto object of its own: its Hmac class is out of user reach.
var createHmac = shims.crypto.makeCrypto('cloudfront-js-2.0').createHmac;

var U8 = I.U8;
var ErrorCtor = Error;
var TypeErrorCtor = I.TypeErrorCtor;
var isArray = I.isArray;
var isView = I.isView;
var isUint8Array = I.isUint8Array;
var asArrayBuffer = I.asArrayBuffer;
var defineProperty = I.defineProperty;
var regexTest = I.regexTest;
var taSet = I.taSet;
var taBuffer = I.taBuffer;
var taByteOffset = I.taByteOffset;
var taByteLength = I.taByteLength;
var taLength = I.taLength;
var taTag = I.taTag;
var abByteLength = I.abByteLength;
var dvBuffer = I.dvBuffer;
var dvByteOffset = I.dvByteOffset;
var dvByteLength = I.dvByteLength;
var objectKeys = Object.keys;
var hasOwn = I.uncurry(Object.prototype.hasOwnProperty);
var isSafeInteger = Number.isSafeInteger;
var mathFloor = Math.floor;
var utf8Length = utf8.length;
var utf8Write = utf8.write;
var utf8Decode = utf8.decode;
var dvGetFloat32 = I.uncurry(DataView.prototype.getFloat32);
var dvGetFloat64 = I.uncurry(DataView.prototype.getFloat64);
var dvSetFloat64 = I.uncurry(DataView.prototype.setFloat64);

var MAX_TOKEN_BYTES = shims.limits.cwtTokenBytes;
var MAX_DEPTH = 64;
var TAG_CWT = 61;
var TAG_COSE_MAC0 = 17;
var ALG_HS256 = 5;
var MAC_BYTES = 32;
var INTEGER_KEY = /^(?:0|-?[1-9][0-9]{0,15})$/;
var floatBuffer = new ArrayBuffer(8);
var floatView = new DataView(floatBuffer);
var floatBytes = new U8(floatBuffer);

// ---------------------------------------------------------------------------------------------
// Errors. Argument mistakes are TypeErrors; everything wrong with a token is an Error. The AWS
// texts are not documented; these name the method and the problem.

function typeError(method, message) {
  return new TypeErrorCtor('cwt.' + method + ': ' + message);
}
function tokenError(method, message) {
  return new ErrorCtor('cwt.' + method + ': ' + message);
}
function describe(value) {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (isArray(value)) return 'an array';
  if (isView(value)) return 'a ' + (taTag(value) || 'DataView');
  return typeof value === 'object' ? 'an object' : 'a ' + typeof value;
}
function isPlainMap(value) {
  return value !== null && typeof value === 'object' && !isArray(value) && !isView(value) &&
    asArrayBuffer(value) === null;
}

// ---------------------------------------------------------------------------------------------
// Bytes.

// A fresh Buffer holding a copy of bytes[start, end).
function copyToBuffer(bytes, start, end) {
  var out = new U8(end - start);
  if (end > start) taSet(out, new U8(taBuffer(bytes), taByteOffset(bytes) + start, end - start));
  return bufferFrom(taBuffer(out));
}

// The bytes of a Buffer-like value as a Uint8Array view, or null.
function bytesOf(value) {
  if (isUint8Array(value)) return value;
  if (isView(value)) {
    if (taTag(value) !== undefined) {
      return new U8(taBuffer(value), taByteOffset(value), taByteLength(value));
    }
    return new U8(dvBuffer(value), dvByteOffset(value), dvByteLength(value));
  }
  var ab = asArrayBuffer(value);
  return ab === null ? null : new U8(ab, 0, abByteLength(ab));
}

// ---------------------------------------------------------------------------------------------
// CBOR encoding (RFC 8949): definite lengths, shortest heads.

function newWriter() {
  return { buf: new U8(256), len: 0 };
}

function ensure(w, n) {
  var need = w.len + n;
  var cap = taLength(w.buf);
  if (need <= cap) return;
  while (cap < need) cap *= 2;
  var grown = new U8(cap);
  taSet(grown, new U8(taBuffer(w.buf), 0, w.len));
  w.buf = grown;
}

function writeHead(w, major, n) {
  var b = w.buf;
  var m = major << 5;
  if (n < 24) {
    ensure(w, 1);
    b = w.buf;
    b[w.len++] = m | n;
  } else if (n < 0x100) {
    ensure(w, 2);
    b = w.buf;
    b[w.len++] = m | 24;
    b[w.len++] = n;
  } else if (n < 0x10000) {
    ensure(w, 3);
    b = w.buf;
    b[w.len++] = m | 25;
    b[w.len++] = n >>> 8;
    b[w.len++] = n & 0xff;
  } else if (n < 0x100000000) {
    ensure(w, 5);
    b = w.buf;
    b[w.len++] = m | 26;
    b[w.len++] = n >>> 24;
    b[w.len++] = (n >>> 16) & 0xff;
    b[w.len++] = (n >>> 8) & 0xff;
    b[w.len++] = n & 0xff;
  } else {
    var hi = mathFloor(n / 0x100000000);
    var lo = (n - hi * 0x100000000) >>> 0;
    ensure(w, 9);
    b = w.buf;
    b[w.len++] = m | 27;
    b[w.len++] = hi >>> 24;
    b[w.len++] = (hi >>> 16) & 0xff;
    b[w.len++] = (hi >>> 8) & 0xff;
    b[w.len++] = hi & 0xff;
    b[w.len++] = lo >>> 24;
    b[w.len++] = (lo >>> 16) & 0xff;
    b[w.len++] = (lo >>> 8) & 0xff;
    b[w.len++] = lo & 0xff;
  }
}

function writeBytes(w, bytes) {
  var n = taLength(bytes);
  writeHead(w, 2, n);
  ensure(w, n);
  if (n > 0) taSet(w.buf, bytes, w.len);
  w.len += n;
}

function writeText(w, s) {
  var n = utf8Length(s);
  writeHead(w, 3, n);
  ensure(w, n);
  if (n > 0) utf8Write(s, new U8(taBuffer(w.buf), w.len, n));
  w.len += n;
}

function writeInteger(w, n) {
  if (n >= 0) writeHead(w, 0, n);
  else writeHead(w, 1, -1 - n);
}

function writeKey(w, key) {
  if (regexTest(INTEGER_KEY, key)) {
    var n = +key;
    if (isSafeInteger(n)) {
      writeInteger(w, n);
      return;
    }
  }
  writeText(w, key);
}

function writeMap(w, map, depth, method, addAlg) {
  var keys = objectKeys(map);
  var count = keys.length;
  var withAlg = addAlg && !hasOwn(map, '1');
  writeHead(w, 5, withAlg ? count + 1 : count);
  if (withAlg) {
    writeHead(w, 0, 1);
    writeHead(w, 0, ALG_HS256);
  }
  for (var i = 0; i < count; i++) {
    writeKey(w, keys[i]);
    writeValue(w, map[keys[i]], depth + 1, method);
  }
}

function writeValue(w, v, depth, method) {
  if (depth > MAX_DEPTH) {
    throw typeError(method, 'value nested more than ' + MAX_DEPTH + ' levels deep (or cyclic)');
  }
  switch (typeof v) {
    case 'number':
      if (isSafeInteger(v)) {
        writeInteger(w, v);
      } else {
        ensure(w, 9);
        w.buf[w.len++] = 0xfb;
        dvSetFloat64(floatView, 0, v);
        for (var i = 0; i < 8; i++) w.buf[w.len++] = floatBytes[i];
      }
      return;
    case 'string':
      writeText(w, v);
      return;
    case 'boolean':
      ensure(w, 1);
      w.buf[w.len++] = v ? 0xf5 : 0xf4;
      return;
    case 'undefined':
      ensure(w, 1);
      w.buf[w.len++] = 0xf7;
      return;
    case 'object':
      if (v === null) {
        ensure(w, 1);
        w.buf[w.len++] = 0xf6;
        return;
      }
      var bytes = bytesOf(v);
      if (bytes !== null) {
        writeBytes(w, bytes);
        return;
      }
      if (isArray(v)) {
        var n = v.length;
        writeHead(w, 4, n);
        for (var j = 0; j < n; j++) writeValue(w, v[j], depth + 1, method);
        return;
      }
      writeMap(w, v, depth, method, false);
      return;
  }
  throw typeError(method, 'cannot encode ' + describe(v) + ' in a token');
}

function writerBytes(w) {
  return new U8(taBuffer(w.buf), 0, w.len);
}

// ---------------------------------------------------------------------------------------------
// CBOR decoding. Accepts any well-formed item (definite or indefinite lengths) of the types a
// token can carry; maps become objects with string keys.

function decodeError(method, d, message) {
  return tokenError(method, 'invalid CBOR at byte ' + d.at + ': ' + message);
}

function readByte(d) {
  if (d.pos >= d.end) throw decodeError(d.method, d, 'unexpected end of data');
  return d.bytes[d.pos++];
}

// Reads an initial byte and its argument into d.major, d.info, d.arg (-1: indefinite length).
function readHead(d) {
  d.at = d.pos;
  var ib = readByte(d);
  var info = ib & 31;
  d.major = ib >> 5;
  d.info = info;
  if (info < 24) {
    d.arg = info;
  } else if (info === 24) {
    d.arg = readByte(d);
  } else if (info === 25) {
    d.arg = readByte(d) * 0x100 + readByte(d);
  } else if (info === 26) {
    d.arg = readUint32(d);
  } else if (info === 27) {
    var hi = readUint32(d);
    d.arg = hi * 0x100000000 + readUint32(d);
  } else if (info === 31) {
    if (d.major < 2 || d.major === 6) {
      throw decodeError(d.method, d, 'indefinite length not allowed for major type ' + d.major);
    }
    d.arg = -1;
  } else {
    throw decodeError(d.method, d, 'reserved additional information ' + info);
  }
}

function readUint32(d) {
  return ((readByte(d) << 24) | (readByte(d) << 16) | (readByte(d) << 8) | readByte(d)) >>> 0;
}

function isBreak(d) {
  if (d.pos >= d.end) throw decodeError(d.method, d, 'unexpected end of data');
  if (d.bytes[d.pos] === 0xff) {
    d.pos++;
    return true;
  }
  return false;
}

// n: the least number of bytes the item needs after its head; what: the item, for the message.
function requireRoom(d, n, what) {
  if (n > d.end - d.pos) throw decodeError(d.method, d, what + ' runs past the end of the data');
}

// The content of a byte or text string whose head was just read, as [start, end) pairs appended
// to chunks (indefinite strings are a series of definite ones of the same major type).
function stringChunks(d, major) {
  var chunks = [];
  var what = major === 2 ? 'byte string' : 'text string';
  if (d.arg >= 0) {
    requireRoom(d, d.arg, what + ' of ' + d.arg + ' bytes');
    defineItem(chunks, 0, d.pos);
    defineItem(chunks, 1, d.pos + d.arg);
    d.pos += d.arg;
    return chunks;
  }
  var k = 0;
  while (!isBreak(d)) {
    readHead(d);
    if (d.major !== major || d.arg < 0) {
      throw decodeError(d.method, d, 'bad chunk in an indefinite-length ' + what);
    }
    requireRoom(d, d.arg, what + ' of ' + d.arg + ' bytes');
    defineItem(chunks, k++, d.pos);
    defineItem(chunks, k++, d.pos + d.arg);
    d.pos += d.arg;
  }
  return chunks;
}

function decodeBytes(d) {
  var chunks = stringChunks(d, 2);
  if (chunks.length === 2) return copyToBuffer(d.bytes, chunks[0], chunks[1]);
  var total = 0;
  var i;
  for (i = 0; i < chunks.length; i += 2) total += chunks[i + 1] - chunks[i];
  var out = new U8(total);
  var at = 0;
  for (i = 0; i < chunks.length; i += 2) {
    var n = chunks[i + 1] - chunks[i];
    if (n > 0) taSet(out, new U8(taBuffer(d.bytes), taByteOffset(d.bytes) + chunks[i], n), at);
    at += n;
  }
  return bufferFrom(taBuffer(out));
}

function decodeText(d) {
  var start = d.at;
  var chunks = stringChunks(d, 3);
  var s = '';
  try {
    for (var i = 0; i < chunks.length; i += 2) {
      s += utf8Decode(d.bytes, chunks[i], chunks[i + 1], true);
    }
  } catch (e) {
    d.at = start;
    throw decodeError(d.method, d, 'text string is not valid UTF-8');
  }
  return s;
}

function defineItem(target, key, value) {
  defineProperty(target, key, { value: value, writable: true, enumerable: true,
    configurable: true });
}

function decodeKey(d) {
  if (d.pos >= d.end) throw decodeError(d.method, d, 'unexpected end of data');
  var major = d.bytes[d.pos] >> 5;
  if (major !== 0 && major !== 1 && major !== 3) {
    d.at = d.pos;
    throw decodeError(d.method, d, 'map key of major type ' + major +
      ' (only integer and text keys are supported)');
  }
  readHead(d);
  if (major === 3) return decodeText(d);
  return '' + (major === 0 ? d.arg : -1 - d.arg);
}

function decodeMap(d, depth) {
  var map = {};
  var n = d.arg;
  if (n >= 0) requireRoom(d, 2 * n, 'map of ' + n + ' pairs');
  for (var i = 0; n < 0 ? !isBreak(d) : i < n; i++) {
    var keyAt = d.pos;
    var key = decodeKey(d);
    if (hasOwn(map, key)) {
      d.at = keyAt;
      throw decodeError(d.method, d, 'duplicate map key "' + key + '"');
    }
    defineItem(map, key, decodeItem(d, depth + 1));
  }
  return map;
}

function decodeArray(d, depth) {
  var list = [];
  var n = d.arg;
  if (n >= 0) requireRoom(d, n, 'array of ' + n + ' items');
  for (var i = 0; n < 0 ? !isBreak(d) : i < n; i++) defineItem(list, i, decodeItem(d, depth + 1));
  return list;
}

function halfToNumber(h) {
  var exp = (h >> 10) & 0x1f;
  var mant = h & 0x3ff;
  var v;
  if (exp === 0) v = mant * 5.960464477539063e-8; // 2^-24
  else if (exp === 31) v = mant === 0 ? Infinity : NaN;
  else v = (1 + mant / 1024) * pow2(exp - 15);
  return h & 0x8000 ? -v : v;
}

function pow2(e) {
  var v = 1;
  if (e >= 0) {
    for (var i = 0; i < e; i++) v *= 2;
  } else {
    for (var j = 0; j < -e; j++) v /= 2;
  }
  return v;
}

function decodeSimple(d) {
  var info = d.info;
  var i;
  switch (info) {
    case 20: return false;
    case 21: return true;
    case 22: return null;
    case 23: return undefined;
    case 25: return halfToNumber(d.arg);
    case 26:
      for (i = 0; i < 4; i++) floatBytes[i] = (d.arg >>> (24 - 8 * i)) & 0xff;
      return dvGetFloat32(floatView, 0);
    case 27:
      d.pos -= 8;
      for (i = 0; i < 8; i++) floatBytes[i] = d.bytes[d.pos++];
      return dvGetFloat64(floatView, 0);
    case 31:
      throw decodeError(d.method, d, 'unexpected "break"');
  }
  throw decodeError(d.method, d, 'unsupported simple value ' + d.arg);
}

function decodeItem(d, depth) {
  if (depth > MAX_DEPTH) {
    d.at = d.pos;
    throw decodeError(d.method, d, 'nested more than ' + MAX_DEPTH + ' levels deep');
  }
  readHead(d);
  switch (d.major) {
    case 0: return d.arg;
    case 1: return -1 - d.arg;
    case 2: return decodeBytes(d);
    case 3: return decodeText(d);
    case 4: return decodeArray(d, depth);
    case 5: return decodeMap(d, depth);
    case 6: return decodeItem(d, depth + 1); // a nested tag: keep its content
  }
  return decodeSimple(d);
}

function newDecoder(bytes, start, end, method) {
  return { bytes: bytes, pos: start, end: end, at: start, major: 0, info: 0, arg: 0,
    method: method };
}

// The map encoded in bytes[start, end), alone (no trailing data). An empty string is an empty map
// (RFC 8152 §3: a protected header bucket with no parameters is a zero-length bstr).
function decodeMapBytes(bytes, method, what, allowEmpty) {
  var n = taLength(bytes);
  if (n === 0 && allowEmpty) return {};
  var d = newDecoder(bytes, 0, n, method);
  if (n === 0 || (bytes[0] >> 5) !== 5) {
    throw tokenError(method, what + ' is not an encoded CBOR map');
  }
  var map = decodeItem(d, 1);
  if (d.pos !== n) {
    d.at = d.pos;
    throw decodeError(method, d, 'data after the ' + what + ' map');
  }
  return map;
}

// ---------------------------------------------------------------------------------------------
// COSE_Mac0 with HMAC-SHA256.

var MAC0_CONTEXT = new U8([0x64, 0x4d, 0x41, 0x43, 0x30]); // text "MAC0"

function computeMac(key, protectedBytes, payloadBytes) {
  var w = newWriter();
  writeHead(w, 4, 4);
  ensure(w, 5);
  taSet(w.buf, MAC0_CONTEXT, w.len);
  w.len += 5;
  writeBytes(w, protectedBytes);
  writeBytes(w, new U8(0)); // external_aad
  writeBytes(w, payloadBytes);
  return createHmac('sha256', key).update(writerBytes(w)).digest();
}

// Compares two 32-byte tags in time that does not depend on where they differ.
function sameMac(a, b) {
  var diff = 0;
  for (var i = 0; i < MAC_BYTES; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function checkKey(method, key) {
  if (typeof key !== 'string' && !isUint8Array(key)) {
    throw typeError(method, 'key must be a string or Buffer, got ' + describe(key));
  }
}

function checkAlg(method, headers) {
  if (!hasOwn(headers, '1')) {
    throw tokenError(method, 'the protected headers name no algorithm (header 1); only HS256, ' +
      'COSE algorithm 5, is supported');
  }
  var alg = headers['1'];
  if (alg === ALG_HS256 || alg === '5') return;
  throw tokenError(method, 'unsupported algorithm ' + (typeof alg === 'string' ? '"' + alg + '"'
    : '' + alg) + ' in the protected headers (only HS256, COSE algorithm 5, is supported)');
}

function validateToken(token, handlerContext) {
  var method = 'validateToken';
  if (!isUint8Array(token)) {
    throw typeError(method, 'token must be a Buffer, got ' + describe(token));
  }
  if (handlerContext === null || typeof handlerContext !== 'object') {
    throw typeError(method, 'second argument must be an object {key}, got ' +
      describe(handlerContext));
  }
  var key = handlerContext.key;
  checkKey(method, key);
  var size = taLength(token);
  if (size > MAX_TOKEN_BYTES) {
    throw tokenError(method, 'token is ' + size + ' bytes, over the ' + MAX_TOKEN_BYTES +
      '-byte (1 KB) limit');
  }
  var bytes = new U8(taBuffer(token), taByteOffset(token), size);
  var d = newDecoder(bytes, 0, size, method);
  readHead(d);
  if (d.major === 6 && d.arg === TAG_CWT) readHead(d);
  if (d.major !== 6) {
    throw tokenError(method, 'token is not tagged as COSE_Mac0 (CBOR tag 17 is required)');
  }
  if (d.arg !== TAG_COSE_MAC0) {
    throw tokenError(method, 'token has CBOR tag ' + d.arg + ', not COSE_Mac0 (17); only MAC0 ' +
      'tokens are supported');
  }
  var mac0 = decodeItem(d, 1);
  if (d.pos !== size) {
    d.at = d.pos;
    throw decodeError(method, d, 'data after the COSE_Mac0 structure');
  }
  if (!isArray(mac0) || mac0.length !== 4) {
    throw tokenError(method, 'COSE_Mac0 must be an array of 4 items [protected, unprotected, ' +
      'payload, tag]');
  }
  var protectedBytes = mac0[0];
  var unprotectedHeaders = mac0[1];
  var payloadBytes = mac0[2];
  var tag = mac0[3];
  if (!isUint8Array(protectedBytes)) {
    throw tokenError(method, 'COSE_Mac0 protected headers must be a byte string');
  }
  if (!isPlainMap(unprotectedHeaders)) {
    throw tokenError(method, 'COSE_Mac0 unprotected headers must be a map');
  }
  if (!isUint8Array(payloadBytes)) {
    throw tokenError(method, 'COSE_Mac0 payload must be a byte string');
  }
  if (!isUint8Array(tag)) throw tokenError(method, 'COSE_Mac0 tag must be a byte string');
  var protectedHeaders = decodeMapBytes(protectedBytes, method, 'protected headers', true);
  checkAlg(method, protectedHeaders);
  if (taLength(tag) !== MAC_BYTES || !sameMac(computeMac(key, protectedBytes, payloadBytes), tag)) {
    throw tokenError(method, 'signature verification failed: the HMAC-SHA256 tag does not ' +
      'match (wrong key or altered token)');
  }
  var payload = decodeMapBytes(payloadBytes, method, 'payload (claims set)', false);
  return {
    protectedHeaders: protectedHeaders,
    unprotectedHeaders: unprotectedHeaders,
    payload: payload,
  };
}

function hasCoseTag(value) {
  return value !== null && typeof value === 'object' && value.coseTag !== undefined;
}

function headerMap(method, value, name) {
  if (value === undefined || value === null) return {};
  if (!isPlainMap(value)) {
    throw typeError(method, name + ' must be an object, got ' + describe(value));
  }
  return value;
}

function generateToken(first, second) {
  var method = 'generateToken';
  var context;
  var cwt;
  if (hasCoseTag(first)) {
    context = first;
    cwt = second;
  } else if (hasCoseTag(second)) {
    context = second;
    cwt = first;
  } else {
    throw typeError(method, 'a generatorContext {coseTag: "MAC0", key} is required');
  }
  if (context.coseTag !== 'MAC0') {
    throw tokenError(method, 'unsupported coseTag ' + (typeof context.coseTag === 'string'
      ? '"' + context.coseTag + '"' : describe(context.coseTag)) + ' (only "MAC0" is supported)');
  }
  var key = context.key;
  checkKey(method, key);
  var cwtTag = context.cwtTag;
  if (cwtTag !== undefined && cwtTag !== null && typeof cwtTag !== 'boolean') {
    throw typeError(method, 'cwtTag must be a boolean, got ' + describe(cwtTag));
  }
  if (cwt === null || typeof cwt !== 'object') {
    throw typeError(method, 'payload must be an object {protected, unprotected, payload}, got ' +
      describe(cwt));
  }
  var prot = headerMap(method, cwt.protected !== undefined ? cwt.protected
    : cwt.protectedHeaders, 'protected headers');
  var unprot = headerMap(method, cwt.unprotected !== undefined ? cwt.unprotected
    : cwt.unprotectedHeaders, 'unprotected headers');
  var claims = cwt.payload;
  if (!isPlainMap(claims)) {
    throw typeError(method, 'payload.payload (the claims) must be an object, got ' +
      describe(claims));
  }
  if (hasOwn(prot, '1')) checkAlg(method, prot);

  var pw = newWriter();
  writeMap(pw, prot, 1, method, true);
  var protectedBytes = writerBytes(pw);
  var cw = newWriter();
  writeMap(cw, claims, 1, method, false);
  var payloadBytes = writerBytes(cw);
  var tag = computeMac(key, protectedBytes, payloadBytes);

  var w = newWriter();
  if (cwtTag === true) writeHead(w, 6, TAG_CWT);
  writeHead(w, 6, TAG_COSE_MAC0);
  writeHead(w, 4, 4);
  writeBytes(w, protectedBytes);
  writeMap(w, unprot, 1, method, false);
  writeBytes(w, payloadBytes);
  writeBytes(w, tag);
  if (w.len > MAX_TOKEN_BYTES) {
    throw tokenError(method, 'token would be ' + w.len + ' bytes, over the ' + MAX_TOKEN_BYTES +
      '-byte (1 KB) limit');
  }
  return copyToBuffer(w.buf, 0, w.len);
}

// One object per `cloudfront` module instance, so that nothing a function assigns to it outlives
// the invocation.
exports.makeCwt = function makeCwt() {
  return { validateToken: validateToken, generateToken: generateToken };
};
