// njs's byte-string methods, which runtime cloudfront-js-1.0 has and 2.0 dropped (AWS runtime
// feature list; njs 0.8.0 removed them): String.bytesFrom(), and String.prototype.fromBytes(),
// fromUTF8(), toBytes(), toUTF8(). The prelude installs them in 1.0 only.
//
// njs strings are UTF-8 internally and come in two kinds: Unicode strings, and byte strings (one
// byte per character, made by bytesFrom, toBytes, toUTF8 and crypto digests). QuickJS has one
// kind, so a byte string is represented as an ordinary string of characters U+0000..U+00FF, one
// per byte. Where a method needs to know the kind, edgesim guesses:
// - fromUTF8() decodes a string whose characters are all <= U+00FF as bytes; njs would return a
//   Unicode string such as 'café' unchanged, edgesim reads its bytes 63 61 66 E9 and returns null;
// - toUTF8() always encodes the characters as UTF-8; njs returns a byte string unchanged, edgesim
//   encodes its high characters a second time;
// - fromBytes() and toBytes() give the same characters for either kind, so they are exact except
//   that indices count UTF-16 units, not code points (njs counts characters of Unicode strings).
//
// Behaviour otherwise follows njs 0.7's src/njs_string.c: start/end work like slice(); hex input
// stops at the first non-hex character and ignores an odd last digit; base64 input stops at the
// first character outside the alphabet ('=' included, no mixing of base64 and base64url), and a
// last group of one character is ignored; array elements are converted with ToUint32 and cut to
// 8 bits; a typed array or ArrayBuffer contributes all bytes of its ArrayBuffer (njs ignores the
// view's offset and length); any other object is read through its `length`.

var I = shims.intrinsics;
var text = shims.text;
var utf8 = text.utf8;
var latin1String = utf8.latin1;
var utf8Decode = utf8.decode;
var utf8Encode = utf8.encode;
var asArrayBuffer = I.asArrayBuffer;

var U8 = I.U8;
var TypeErrorCtor = I.TypeErrorCtor;
var isArray = I.isArray;
var isView = I.isView;
var charCodeAt = I.charCodeAt;
var strSlice = I.strSlice;
var stringValueOf = I.uncurry(String.prototype.valueOf);
var regexTest = I.regexTest;
var taTag = I.taTag;
var taBuffer = I.taBuffer;
var taLength = I.taLength;
var mathMin = Math.min;
var nativeEncodeURIComponent = I.nativeEncodeURIComponent;
var nativeUnescape = I.nativeUnescape;

var NON_LATIN1 = /[^\x00-\xff]/;
var NON_ASCII = /[^\x00-\x7f]/;

// `this` of the String.prototype methods, as njs_string_object_validate does it.
function thisString(value) {
  if (value === undefined || value === null) {
    throw new TypeErrorCtor('cannot convert undefined to object');
  }
  return typeof value === 'string' ? value : `${value}`;
}

// Bytes of a string of characters <= U+00FF, one per character.
function bytesOf(s) {
  var n = s.length;
  var out = new U8(n);
  for (var i = 0; i < n; i++) out[i] = charCodeAt(s, i);
  return out;
}

// ---------------------------------------------------------------------------------------------
// String.bytesFrom(arrayLike) / String.bytesFrom(string, encoding)

function hexDigit(c) {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function fromHex(s) {
  var n = s.length;
  var out = new U8(n >> 1);
  var k = 0;
  var hi = 0;
  for (var i = 0; i < n; i++) {
    var v = hexDigit(charCodeAt(s, i));
    if (v < 0) break;
    if ((i & 1) === 0) {
      hi = v;
    } else {
      out[k++] = (hi << 4) | v;
    }
  }
  return latin1String(out, 0, k);
}

var B64_STD = new Int8Array(128).fill(-1);
var B64_URL = new Int8Array(128).fill(-1);
(function () {
  var common = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (var i = 0; i < 62; i++) {
    B64_STD[charCodeAt(common, i)] = i;
    B64_URL[charCodeAt(common, i)] = i;
  }
  B64_STD[0x2b] = 62; // +
  B64_STD[0x2f] = 63; // /
  B64_URL[0x2d] = 62; // -
  B64_URL[0x5f] = 63; // _
})();

function fromBase64(s, table) {
  var n = s.length;
  var len = 0;
  while (len < n) {
    var c = charCodeAt(s, len);
    if (c >= 128 || table[c] < 0) break;
    len++;
  }
  // Whole groups give three bytes; a last group of 2 or 3 characters gives 1 or 2.
  var rest = len & 3;
  var size = (len >> 2) * 3 + (rest > 1 ? rest - 1 : 0);
  var out = new U8(size);
  var k = 0;
  var i = 0;
  while (k + 3 <= size) {
    var a = table[charCodeAt(s, i)];
    var b = table[charCodeAt(s, i + 1)];
    var c2 = table[charCodeAt(s, i + 2)];
    var d = table[charCodeAt(s, i + 3)];
    out[k++] = (a << 2) | (b >> 4);
    out[k++] = ((b << 4) | (c2 >> 2)) & 0xff;
    out[k++] = ((c2 << 6) | d) & 0xff;
    i += 4;
  }
  if (k < size) {
    var a1 = table[charCodeAt(s, i)];
    var b1 = table[charCodeAt(s, i + 1)];
    out[k++] = (a1 << 2) | (b1 >> 4);
    if (k < size) out[k++] = ((b1 << 4) | (table[charCodeAt(s, i + 2)] >> 2)) & 0xff;
  }
  return latin1String(out, 0, size);
}

function fromEncodedString(s, encoding) {
  if (typeof encoding !== 'string') throw new TypeErrorCtor('"encoding" must be a string');
  if (encoding === 'hex') return fromHex(s);
  if (encoding === 'base64') return fromBase64(s, B64_STD);
  if (encoding === 'base64url') return fromBase64(s, B64_URL);
  throw new TypeErrorCtor('Unknown encoding: "' + encoding + '"');
}

function isStringObject(value) {
  try {
    stringValueOf(value);
    return true;
  } catch (e) {
    return false;
  }
}

function fromArrayLike(value) {
  var out, n, i;
  if (isArray(value)) {
    n = value.length;
    out = new U8(n);
    for (i = 0; i < n; i++) out[i] = value[i] & 0xff;
    return latin1String(out, 0, n);
  }
  var ab = isView(value) && taTag(value) !== undefined ? taBuffer(value) : asArrayBuffer(value);
  if (ab !== null) {
    out = new U8(ab);
    return latin1String(out, 0, taLength(out));
  }
  var len = +value.length;
  n = len > 0 ? mathMin(len - (len % 1), 9007199254740991) : 0;
  out = new U8(n);
  // njs reads the elements from the last to the first.
  for (i = n - 1; i >= 0; i--) out[i] = value[i] & 0xff;
  return latin1String(out, 0, n);
}

function bytesFrom(value, encoding) {
  if (typeof value === 'string') return fromEncodedString(value, encoding);
  if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
    if (isStringObject(value)) return fromEncodedString(stringValueOf(value), encoding);
    return fromArrayLike(value);
  }
  throw new TypeErrorCtor('value must be a string or array-like object');
}

// ---------------------------------------------------------------------------------------------
// String.prototype methods

// UTF-8 bytes of s as a byte string.
function utf8ByteString(s) {
  if (!regexTest(NON_ASCII, s)) return s;
  if (nativeUnescape !== null) {
    try {
      return nativeUnescape(nativeEncodeURIComponent(s));
    } catch (e) {
      // A lone surrogate: the loop below writes U+FFFD for it.
    }
  }
  var bytes = utf8Encode(s, U8);
  return latin1String(bytes, 0, taLength(bytes));
}

function fromBytes(start, end) {
  return strSlice(thisString(this), start, end);
}

function fromUTF8(start, end) {
  var s = thisString(this);
  var part = strSlice(s, start, end);
  // A string with a character above U+00FF is a Unicode string: njs returns the slice.
  if (regexTest(NON_LATIN1, s) || !regexTest(NON_ASCII, part)) return part;
  var bytes = bytesOf(part);
  try {
    return utf8Decode(bytes, 0, taLength(bytes), true);
  } catch (e) {
    return null;
  }
}

function toBytes(start, end) {
  var part = strSlice(thisString(this), start, end);
  return regexTest(NON_LATIN1, part) ? null : part;
}

function toUTF8(start, end) {
  return strSlice(utf8ByteString(thisString(this)), start, end);
}

exports.bytesFrom = bytesFrom;
exports.fromBytes = fromBytes;
exports.fromUTF8 = fromUTF8;
exports.toBytes = toBytes;
exports.toUTF8 = toUTF8;
