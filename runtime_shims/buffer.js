// Buffer of runtime cloudfront-js-2.0: Node's API, with njs's rules where the two disagree on
// input Node would reject or read differently (CloudFront's runtime resembles njs; evidence below
// is "njs 0.7.9 behaviour", checked with the njs CLI, unless it names another source).
//
// Policy, in order:
// 1. Valid input gives Node's result, byte for byte.
// 2. Where njs 0.7.9 gives a result for input Node rejects or reads otherwise (malformed base64 or
//    hex, fractional or string offsets, a length beyond the end), edgesim gives njs's result.
// 3. Errors use Node's class (TypeError / RangeError) and, mostly, njs's wording.
// 4. Where njs 0.7.9 misbehaves on valid input and later njs releases behave like Node (write()
//    with an encoding, writeFloat*() returning undefined, write*() not checking the value range,
//    toString() past the end), edgesim behaves like Node.
//
// Encodings: utf8 (utf-8), hex, base64, base64url. Others throw njs's TypeError, e.g.
// `"ascii" encoding is not supported`. Names are case-insensitive as in Node (njs 0.7.9 matches
// them case-sensitively: Buffer.from('x', 'UTF8') throws there). See ENCODING_NAMES_IGNORE_CASE.

var I = shims.intrinsics;
var text = shims.text;
var utf8 = text.utf8;
var uncurry = I.uncurry;
var isUint8Array = I.isUint8Array;
var asArrayBuffer = I.asArrayBuffer;
var utf8Encode = utf8.encode;
var utf8Decode = utf8.decode;
var utf8Length = utf8.length;
var latin1String = utf8.latin1;

var U8 = I.U8;
var TypeErrorCtor = I.TypeErrorCtor;
var RangeErrorCtor = I.RangeErrorCtor;
var NumberCtor = Number;
var fromCharCode = I.fromCharCode;
var isArray = I.isArray;
var isView = I.isView;
var mathTrunc = I.mathTrunc;
var defineProperty = I.defineProperty;
var setPrototypeOf = Object.setPrototypeOf;
var isPrototypeOf = uncurry(Object.prototype.isPrototypeOf);
var callFn = uncurry(Function.prototype.call);
var charCodeAt = I.charCodeAt;
var strSlice = I.strSlice;
var strIndexOf = I.strIndexOf;
var strLastIndexOf = uncurry(String.prototype.lastIndexOf);
var toLowerCase = I.toLowerCase;
var regexExec = I.regexExec;
var taSet = I.taSet;
var taFill = I.taFill;
var taCopyWithin = uncurry(I.TypedArrayProto.copyWithin);
var toHex = I.toHex;
var toBase64 = I.toBase64;
var setFromHex = uncurry(U8.prototype.setFromHex);
var setFromBase64 = I.setFromBase64;
var taBuffer = I.taBuffer;
var taByteOffset = I.taByteOffset;
var taByteLength = I.taByteLength;
var taLength = I.taLength;
var taTag = I.taTag;
var abByteLength = I.abByteLength;
var dvBuffer = I.dvBuffer;
var dvByteOffset = I.dvByteOffset;
var dvByteLength = I.dvByteLength;
var symToPrimitive = Symbol.toPrimitive;
var symSpecies = Symbol.species;

var MAX_INDEX = 9007199254740991;
// njs's limit for Buffer.alloc (INT32_MAX); the 2 MB memory limit bites long before.
var MAX_LENGTH = 2147483647;

// Option bags for the native base64 routines, with every option an own property so that nothing
// is looked up on Object.prototype.
var B64_DECODE = { alphabet: 'base64', lastChunkHandling: 'loose' };
var B64URL_DECODE = { alphabet: 'base64url', lastChunkHandling: 'loose' };
var B64_ENCODE = { alphabet: 'base64', omitPadding: false };
var B64URL_ENCODE = { alphabet: 'base64url', omitPadding: true };

// Scratch space for float conversions, viewed as bytes in memory (platform) order.
var f32 = new Float32Array(1);
var f32Bytes = new U8(f32.buffer);
var f64 = new Float64Array(1);
var f64Bytes = new U8(f64.buffer);
var LITTLE_ENDIAN_HOST = new U8(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// The class. FastBuffer makes the instances; Buffer is what users see, and like njs's Buffer it
// cannot be called or constructed (njs 0.7.9: `TypeError: Buffer is not a constructor`; Node
// still accepts the deprecated Buffer(n)). Both share one prototype, so `instanceof Buffer`,
// `instanceof Uint8Array` and Buffer.isBuffer() agree.

class FastBuffer extends U8 {
  constructor(a, b, c) {
    super(a, b, c);
  }
}

function Buffer() {
  throw new TypeErrorCtor('Buffer is not a constructor');
}
var proto = FastBuffer.prototype;
Buffer.prototype = proto;
defineProperty(proto, 'constructor', { value: Buffer, writable: true, configurable: true });
setPrototypeOf(Buffer, U8);
// Typed array methods that make new arrays (map, filter, ...) make Buffers, as in Node.
defineProperty(Buffer, symSpecies, {
  get: function () {
    return FastBuffer;
  },
  configurable: true,
});

function method(target, name, fn) {
  defineProperty(target, name, { value: fn, writable: true, configurable: true });
}

// A Buffer sharing memory with bytes[start, start + length).
function viewOf(bytes, start, length) {
  return new FastBuffer(taBuffer(bytes), taByteOffset(bytes) + start, length);
}

// ---------------------------------------------------------------------------------------------
// Arguments.

function typeName(value) {
  if (value === null) return 'null';
  if (isView(value)) return 'typed array';
  return typeof value;
}

function requireBytes(self) {
  if (!isUint8Array(self)) {
    throw new TypeErrorCtor('"this" argument must be an instance of Buffer or Uint8Array');
  }
}

function requireArgBytes(value, name) {
  if (!isUint8Array(value)) {
    throw new TypeErrorCtor('"' + name + '" argument must be an instance of Buffer or Uint8Array');
  }
}

// ES ToIndex, which njs applies to offsets: numbers and numeric strings are truncated, NaN is 0,
// negative values throw (Node throws for anything but an integer).
function toIndex(value) {
  if (value === undefined) return 0;
  var n = NumberCtor(value);
  if (n !== n) return 0;
  n = mathTrunc(n);
  if (n < 0 || n > MAX_INDEX) throw new RangeErrorCtor('invalid index');
  return n + 0;
}

var UTF8 = 1;
var HEX = 2;
var BASE64 = 3;
var BASE64URL = 4;

// Switch: whether 'UTF8', 'Hex', ... are accepted (Node: yes; njs 0.7.9: no).
var ENCODING_NAMES_IGNORE_CASE = true;

function encodingCode(name) {
  switch (name) {
    case 'utf8':
    case 'utf-8':
      return UTF8;
    case 'hex':
      return HEX;
    case 'base64':
      return BASE64;
    case 'base64url':
      return BASE64URL;
  }
  if (ENCODING_NAMES_IGNORE_CASE) {
    var lower = toLowerCase(name);
    if (lower !== name) return encodingCode(lower);
  }
  return 0;
}

function encodingArg(encoding) {
  if (encoding === undefined) return UTF8;
  if (typeof encoding !== 'string') {
    // njs 0.7.9 wording; null is rejected too (Node reads null as utf8 in some methods).
    throw new TypeErrorCtor('encoding must be a string');
  }
  var code = encodingCode(encoding);
  if (code === 0) {
    // njs 0.7.9 wording, also for encodings Node has and njs lacks (ascii, latin1, binary,
    // ucs2, utf16le).
    throw new TypeErrorCtor('"' + encoding + '" encoding is not supported');
  }
  return code;
}

// ---------------------------------------------------------------------------------------------
// Strings to bytes, njs 0.7.9 style:
// - hex and base64 decoding stop at the first character outside the encoding's alphabet
//   (Node skips invalid base64 characters and whitespace);
// - 'base64' accepts only + and /, 'base64url' only - and _ (Node accepts both in both);
// - when the valid prefix is too short to give a single byte, njs keeps the string's UTF-8
//   bytes instead: Buffer.from('!!!!', 'base64') is <21 21 21 21> and Buffer.from('z', 'hex')
//   is <7a> (Node: empty). An empty string stays empty.

var HEX_INVALID = /[^0-9A-Fa-f]/;
var BASE64_INVALID = /[^A-Za-z0-9+/]/;
var BASE64URL_INVALID = /[^A-Za-z0-9\-_]/;

function validPrefix(re, s) {
  var m = regexExec(re, s);
  return m === null ? s.length : m.index;
}

function decodeHex(s) {
  var n = s.length;
  // njs counts hex capacity on the UTF-8 form: under 2 bytes means one ASCII character.
  if (n === 1 && charCodeAt(s, 0) < 0x80) return utf8Encode(s, FastBuffer);
  var count = validPrefix(HEX_INVALID, s) >> 1;
  var out = new FastBuffer(count);
  if (count > 0) setFromHex(out, 2 * count === n ? s : strSlice(s, 0, 2 * count));
  return out;
}

function decodeBase64(s, code) {
  var valid = validPrefix(code === BASE64 ? BASE64_INVALID : BASE64URL_INVALID, s);
  var size = (valid * 3) >> 2;
  if (size === 0) return utf8Encode(s, FastBuffer);
  // A lone trailing character holds no whole byte.
  if ((valid & 3) === 1) valid--;
  var out = new FastBuffer(size);
  setFromBase64(out, valid === s.length ? s : strSlice(s, 0, valid),
    code === BASE64 ? B64_DECODE : B64URL_DECODE);
  return out;
}

function bytesFromString(s, code) {
  if (code === UTF8) return utf8Encode(s, FastBuffer);
  if (code === HEX) return decodeHex(s);
  return decodeBase64(s, code);
}

// Buffer.byteLength of a string: what Buffer.from would give, except that njs counts 0 (not the
// UTF-8 length) for hex/base64 strings too short to decode.
function stringByteLength(s, code) {
  if (code === UTF8) return utf8Length(s);
  if (code === HEX) return utf8Length(s) >> 1;
  var valid = validPrefix(code === BASE64 ? BASE64_INVALID : BASE64URL_INVALID, s);
  return (valid * 3) >> 2;
}

function bytesToString(bytes, code, start, end) {
  if (start >= end) return '';
  if (code === UTF8) return utf8Decode(bytes, start, end, false);
  var view = start === 0 && end === taLength(bytes) ? bytes : new U8(taBuffer(bytes),
    taByteOffset(bytes) + start, end - start);
  if (code === HEX) return toHex(view);
  return toBase64(view, code === BASE64 ? B64_ENCODE : B64URL_ENCODE);
}

// ---------------------------------------------------------------------------------------------
// Statics.

function checkSize(size) {
  if (typeof size !== 'number') {
    throw new TypeErrorCtor('"size" argument must be of type number');
  }
  if (!(size >= 0 && size <= MAX_LENGTH)) throw new RangeErrorCtor('invalid size');
  return mathTrunc(size);
}

method(Buffer, 'alloc', function alloc(size, fill, encoding) {
  var n = checkSize(size);
  var buf = new FastBuffer(n);
  if (fill !== undefined && fill !== 0 && n > 0) fillBytes(buf, fill, 0, n, encoding);
  return buf;
});

method(Buffer, 'allocUnsafe', function allocUnsafe(size) {
  return new FastBuffer(checkSize(size));
});

method(Buffer, 'allocUnsafeSlow', function allocUnsafeSlow(size) {
  return new FastBuffer(checkSize(size));
});

method(Buffer, 'byteLength', function byteLength(value, encoding) {
  if (typeof value === 'string') return stringByteLength(value, encodingArg(encoding));
  if (isView(value)) return taTag(value) !== undefined ? taByteLength(value) : dvByteLength(value);
  var ab = asArrayBuffer(value);
  if (ab !== null) return abByteLength(ab);
  throw new TypeErrorCtor('first argument ' + typeName(value) +
    ' is not a string or Buffer-like object');
});

// -1, 0 or 1 as a[aStart, aEnd) sorts before, with or after b[bStart, bEnd), bytewise.
function compareRanges(a, aStart, aEnd, b, bStart, bEnd) {
  var aLen = aEnd - aStart;
  var bLen = bEnd - bStart;
  var n = aLen < bLen ? aLen : bLen;
  if (n > 32) {
    // Long ranges: compare hex strings natively (hex digits sort like the bytes they encode).
    var ha = bytesToString(a, HEX, aStart, aStart + n);
    var hb = bytesToString(b, HEX, bStart, bStart + n);
    if (ha < hb) return -1;
    if (ha > hb) return 1;
  } else {
    for (var i = 0; i < n; i++) {
      var x = a[aStart + i];
      var y = b[bStart + i];
      if (x !== y) return x < y ? -1 : 1;
    }
  }
  return aLen < bLen ? -1 : aLen > bLen ? 1 : 0;
}

method(Buffer, 'compare', function compare(buf1, buf2) {
  requireArgBytes(buf1, 'source');
  requireArgBytes(buf2, 'target');
  return compareRanges(buf1, 0, taLength(buf1), buf2, 0, taLength(buf2));
});

method(Buffer, 'concat', function concat(list, totalLength) {
  if (!isArray(list)) throw new TypeErrorCtor('"list" argument must be an instance of Array');
  var count = list.length;
  // Node returns an empty Buffer for an empty list whatever the length (njs 0.7.9 zero-fills).
  if (count === 0) return new FastBuffer(0);
  var items = [];
  var total = 0;
  for (var i = 0; i < count; i++) {
    var item = list[i];
    if (!isUint8Array(item)) {
      throw new TypeErrorCtor('"list[' + i + ']" argument must be an instance of Buffer or ' +
        'Uint8Array');
    }
    items[i] = item;
    total += taLength(item);
  }
  if (totalLength !== undefined) {
    if (typeof totalLength !== 'number') {
      throw new TypeErrorCtor('"length" argument must be of type number');
    }
    if (totalLength < 0) throw new RangeErrorCtor('"length" is out of range');
    // njs truncates a fractional length (Node throws).
    total = totalLength === totalLength ? mathTrunc(totalLength) : 0;
  }
  var out = new FastBuffer(total);
  var pos = 0;
  for (var j = 0; j < count && pos < total; j++) {
    var len = taLength(items[j]);
    var take = len < total - pos ? len : total - pos;
    if (take > 0) taSet(out, take === len ? items[j] : new U8(taBuffer(items[j]),
      taByteOffset(items[j]), take), pos);
    pos += take;
  }
  return out;
});

function fromArrayLike(source, length) {
  var n = NumberCtor(length);
  n = n > 0 ? mathTrunc(n) : 0;
  if (n > MAX_LENGTH) throw new RangeErrorCtor('invalid size');
  var out = new FastBuffer(n);
  if (isArray(source) && source.length === n) {
    taSet(out, source);
  } else {
    for (var i = 0; i < n; i++) out[i] = source[i];
  }
  return out;
}

function fromString(value, encoding) {
  return bytesFromString(value, encodingArg(encoding));
}

function from(value, encodingOrOffset, length) {
  if (typeof value === 'string') return fromString(value, encodingOrOffset);
  if (value !== null && typeof value === 'object') {
    if (isArray(value)) return fromArrayLike(value, value.length);
    if (isView(value)) {
      if (taTag(value) !== undefined) {
        var copy = new FastBuffer(taLength(value));
        taSet(copy, value);
        return copy;
      }
    } else {
      var ab = asArrayBuffer(value);
      if (ab !== null) {
        // Shares memory with the ArrayBuffer.
        var abLen = abByteLength(ab);
        var offset = toIndex(encodingOrOffset);
        if (offset > abLen) throw new RangeErrorCtor('"offset" is outside of buffer bounds');
        var n = abLen - offset;
        if (length !== undefined) {
          n = NumberCtor(length);
          n = n > 0 ? mathTrunc(n) : 0;
          if (offset + n > abLen) throw new RangeErrorCtor('"length" is outside of buffer bounds');
        }
        return new FastBuffer(ab, offset, n);
      }
      var valueOf = value.valueOf;
      if (typeof valueOf === 'function') {
        var primitive = callFn(valueOf, value);
        if (primitive !== value && primitive !== null &&
            (typeof primitive === 'string' || typeof primitive === 'object')) {
          return from(primitive, encodingOrOffset, length);
        }
      }
      var len = value.length;
      if (len !== undefined) {
        return typeof len === 'number' ? fromArrayLike(value, len) : new FastBuffer(0);
      }
      if (value.type === 'Buffer' && isArray(value.data)) {
        return fromArrayLike(value.data, value.data.length);
      }
      var toPrimitive = value[symToPrimitive];
      if (typeof toPrimitive === 'function') {
        var str = callFn(toPrimitive, value, 'string');
        if (typeof str === 'string') return fromString(str, encodingOrOffset);
      }
    }
  }
  // njs 0.7.9 wording.
  throw new TypeErrorCtor('first argument ' + typeName(value) +
    ' is not a string or Buffer-like object');
}
method(Buffer, 'from', from);

method(Buffer, 'isBuffer', function isBuffer(value) {
  return isPrototypeOf(proto, value);
});

method(Buffer, 'isEncoding', function isEncoding(encoding) {
  return typeof encoding === 'string' && encodingCode(encoding) !== 0;
});

// ---------------------------------------------------------------------------------------------
// Ranges, as njs checks them for compare() and copy(): ToIndex, no further than the end, and an
// end before the start is an empty range. Node clamps some of these instead of throwing.

var rangeStart = 0;
var rangeEnd = 0;

function setRange(bytes, start, end, name) {
  var len = taLength(bytes);
  var s = start === undefined ? 0 : toIndex(start);
  if (s > len) throw new RangeErrorCtor('"' + name + 'Start" is out of range: ' + s);
  var e = end === undefined ? len : toIndex(end);
  if (e > len) throw new RangeErrorCtor('"' + name + 'End" is out of range: ' + e);
  rangeStart = s;
  rangeEnd = e < s ? s : e;
}

method(proto, 'compare', function compare(target, targetStart, targetEnd, sourceStart,
  sourceEnd) {
  requireBytes(this);
  requireArgBytes(target, 'target');
  setRange(target, targetStart, targetEnd, 'target');
  var ts = rangeStart;
  var te = rangeEnd;
  setRange(this, sourceStart, sourceEnd, 'source');
  return compareRanges(this, rangeStart, rangeEnd, target, ts, te);
});

method(proto, 'copy', function copy(target, targetStart, sourceStart, sourceEnd) {
  requireBytes(this);
  requireArgBytes(target, 'target');
  setRange(target, targetStart, undefined, 'target');
  var ts = rangeStart;
  var room = rangeEnd - ts;
  setRange(this, sourceStart, sourceEnd, 'source');
  var n = rangeEnd - rangeStart;
  if (n > room) n = room;
  // TypedArray.prototype.set copies correctly when the two ranges overlap.
  if (n > 0) taSet(target, new U8(taBuffer(this), taByteOffset(this) + rangeStart, n), ts);
  return n;
});

method(proto, 'equals', function equals(otherBuffer) {
  requireBytes(this);
  requireArgBytes(otherBuffer, 'target');
  var len = taLength(this);
  if (len !== taLength(otherBuffer)) return false;
  return compareRanges(this, 0, len, otherBuffer, 0, len) === 0;
});

// Fills bytes[start, end) with `pattern` repeated (cut at the end).
function fillPattern(bytes, pattern, start, end) {
  var plen = taLength(pattern);
  var first = plen < end - start ? plen : end - start;
  taSet(bytes, first === plen ? pattern : new U8(taBuffer(pattern), taByteOffset(pattern), first),
    start);
  var filled = first;
  while (start + filled < end) {
    var chunk = filled < end - start - filled ? filled : end - start - filled;
    taCopyWithin(bytes, start + filled, start, start + chunk);
    filled += chunk;
  }
}

function fillBytes(bytes, value, start, end, encoding) {
  if (typeof value === 'string') {
    var pattern = bytesFromString(value, encodingArg(encoding));
    // An empty pattern (including hex/base64 that decodes to nothing) fills with zeros in njs
    // 0.7.9; Node throws for invalid hex.
    if (taLength(pattern) === 0) taFill(bytes, 0, start, end);
    else fillPattern(bytes, pattern, start, end);
  } else if (isView(value)) {
    var src = taTag(value) !== undefined
      ? new U8(taBuffer(value), taByteOffset(value), taByteLength(value))
      : new U8(dvBuffer(value), dvByteOffset(value), dvByteLength(value));
    var n = taLength(src);
    if (n === 0) {
      // Node's error (njs 0.7.9 loops forever here).
      throw new TypeErrorCtor('The argument \'value\' is invalid');
    }
    if (taBuffer(src) === taBuffer(bytes)) {
      var own = new U8(n);
      taSet(own, src);
      src = own;
    }
    fillPattern(bytes, src, start, end);
  } else {
    taFill(bytes, NumberCtor(value) & 255, start, end);
  }
}

method(proto, 'fill', function fill(value, offset, end, encoding) {
  requireBytes(this);
  // njs 0.7.9: fill() without arguments changes nothing (Node fills with zeros).
  if (arguments.length === 0) return this;
  var len = taLength(this);
  var s = 0;
  var e = len;
  var enc = encoding;
  // Arguments as njs reads them: an end given after an undefined offset still counts (Node
  // ignores it), and a string end only names the encoding when the value is a string.
  if (typeof value === 'string' && typeof offset === 'string') {
    enc = offset;
  } else {
    if (offset !== undefined) s = toIndex(offset);
    if (end !== undefined) {
      if (typeof value === 'string' && typeof end === 'string') enc = end;
      else e = toIndex(end);
    }
  }
  if (s > len) throw new RangeErrorCtor('"offset" is out of range');
  if (e > len) throw new RangeErrorCtor('"end" is out of range');
  if (s < e) fillBytes(this, value, s, e, enc);
  return this;
});

// Where a search may start, the way Node places byteOffset (negative counts from the end).
function searchStart(len, offset, needleLength, forward) {
  if (offset < 0) {
    if (offset + len >= 0) return len + offset;
    return forward || needleLength === 0 ? 0 : -1;
  }
  if (offset + needleLength <= len) return offset;
  if (needleLength === 0) return len;
  return forward ? -1 : len - 1;
}

// Windows of the buffer become binary strings (one code unit per byte) and the engine's native
// String indexOf / lastIndexOf searches them. Windows double in size, so a match near the start
// costs little and the whole search stays linear.
var FIRST_WINDOW = 256;

function searchForward(bytes, needle, start, len) {
  var n = needle.length;
  var window = FIRST_WINDOW;
  for (var pos = start; pos + n <= len; pos += window, window *= 2) {
    var stop = pos + window + n - 1 < len ? pos + window + n - 1 : len;
    var i = strIndexOf(latin1String(bytes, pos, stop), needle);
    if (i !== -1) return pos + i;
  }
  return -1;
}

function searchBackward(bytes, needle, start, len) {
  var n = needle.length;
  var window = FIRST_WINDOW;
  // Matches may begin at `last` or before.
  var last = start + n <= len ? start : len - n;
  while (last >= 0) {
    var from = last - window + 1 > 0 ? last - window + 1 : 0;
    var i = strLastIndexOf(latin1String(bytes, from, last + n), needle);
    if (i !== -1) return from + i;
    last = from - 1;
    window *= 2;
  }
  return -1;
}

// indexOf / lastIndexOf / includes.
function search(self, value, byteOffset, encoding, forward) {
  requireBytes(self);
  var len = taLength(self);
  var enc = encoding;
  var offset;
  if (typeof byteOffset === 'string') {
    enc = byteOffset;
    offset = NaN;
  } else {
    offset = NumberCtor(byteOffset);
  }
  if (offset !== offset) {
    offset = forward ? 0 : len;
  } else {
    offset = mathTrunc(offset);
    if (offset > 0x7fffffff) offset = 0x7fffffff;
    else if (offset < -0x80000000) offset = -0x80000000;
  }
  var needle;
  if (typeof value === 'number') {
    needle = fromCharCode((value >>> 0) & 255);
  } else {
    var bytes;
    if (typeof value === 'string') {
      bytes = bytesFromString(value, encodingArg(enc));
    } else if (isUint8Array(value)) {
      bytes = value;
    } else {
      throw new TypeErrorCtor('"value" argument ' + typeName(value) +
        ' is not a string or Buffer-like object');
    }
    needle = latin1String(bytes, 0, taLength(bytes));
  }
  var start = searchStart(len, offset, needle.length, forward);
  if (needle.length === 0) return start;
  if (len === 0 || start < 0) return -1;
  return forward ? searchForward(self, needle, start, len)
    : searchBackward(self, needle, start, len);
}

method(proto, 'includes', function includes(value, byteOffset, encoding) {
  return search(this, value, byteOffset, encoding, true) !== -1;
});

method(proto, 'indexOf', function indexOf(value, byteOffset, encoding) {
  return search(this, value, byteOffset, encoding, true);
});

method(proto, 'lastIndexOf', function lastIndexOf(value, byteOffset, encoding) {
  return search(this, value, byteOffset, encoding, false);
});

// ---------------------------------------------------------------------------------------------
// Numbers. Offsets follow njs (ToIndex); reading or writing past the end is a RangeError.

function checkOffset(self, offset, size) {
  requireBytes(self);
  var o = toIndex(offset);
  if (o + size > taLength(self)) {
    throw new RangeErrorCtor('index ' + o + ' is outside the bound of the buffer');
  }
  return o;
}

// readIntBE & co.: njs requires a number and truncates it; 1..6 as in Node.
function checkByteLength(byteLength) {
  if (typeof byteLength !== 'number') {
    throw new TypeErrorCtor('"byteLength" is not a number');
  }
  var n = mathTrunc(byteLength);
  if (!(n >= 1 && n <= 6)) throw new RangeErrorCtor('"byteLength" must be >= 1 and <= 6');
  return n;
}

function readUnsigned(self, o, size, little) {
  var value = 0;
  if (little) {
    for (var i = size - 1; i >= 0; i--) value = value * 256 + self[o + i];
  } else {
    for (var j = 0; j < size; j++) value = value * 256 + self[o + j];
  }
  return value;
}

function signed(value, size) {
  var limit = 2 ** (8 * size - 1);
  return value >= limit ? value - 2 * limit : value;
}

// The value check of Node (and of njs after 0.7.9; 0.7.9 itself wraps silently). Returns the value
// as an integer (truncated; NaN is 0).
function checkValue(value, min, max) {
  var v = NumberCtor(value);
  if (v > max || v < min) {
    throw new RangeErrorCtor('The value of "value" is out of range. It must be >= ' + min +
      ' and <= ' + max + '. Received ' + v);
  }
  return v === v ? mathTrunc(v) : 0;
}

// Stores the integer v (two's complement if negative) in size bytes at o.
function writeInteger(self, v, o, size, little) {
  var lo = v % 4294967296;
  if (lo < 0) lo += 4294967296;
  var hi = (v - lo) / 4294967296;
  for (var i = 0; i < size; i++) {
    var byte = i < 4 ? (lo >>> (8 * i)) & 255 : (hi >> (8 * (i - 4))) & 255;
    self[little ? o + i : o + size - 1 - i] = byte;
  }
  return o + size;
}

function readFixed(size, isSigned, little) {
  return function (offset) {
    var o = checkOffset(this, offset, size);
    var v = readUnsigned(this, o, size, little);
    return isSigned ? signed(v, size) : v;
  };
}

function readVariable(isSigned, little) {
  return function (offset, byteLength) {
    requireBytes(this);
    var size = checkByteLength(byteLength);
    var o = checkOffset(this, offset, size);
    var v = readUnsigned(this, o, size, little);
    return isSigned ? signed(v, size) : v;
  };
}

function range(size, isSigned) {
  var span = 2 ** (8 * size);
  return isSigned ? [-span / 2, span / 2 - 1] : [0, span - 1];
}

function writeFixed(size, isSigned, little) {
  var limits = range(size, isSigned);
  var min = limits[0];
  var max = limits[1];
  return function (value, offset) {
    requireBytes(this);
    var v = checkValue(value, min, max);
    var o = checkOffset(this, offset, size);
    return writeInteger(this, v, o, size, little);
  };
}

function writeVariable(isSigned, little) {
  return function (value, offset, byteLength) {
    requireBytes(this);
    var size = checkByteLength(byteLength);
    var limits = range(size, isSigned);
    var v = checkValue(value, limits[0], limits[1]);
    var o = checkOffset(this, offset, size);
    return writeInteger(this, v, o, size, little);
  };
}

// Copies size scratch bytes to/from self[o...] in the requested byte order.
function readFloat(size, little) {
  var scratch = size === 4 ? f32 : f64;
  var bytes = size === 4 ? f32Bytes : f64Bytes;
  var reverse = little !== LITTLE_ENDIAN_HOST;
  return function (offset) {
    var o = checkOffset(this, offset, size);
    for (var i = 0; i < size; i++) bytes[reverse ? size - 1 - i : i] = this[o + i];
    return scratch[0];
  };
}

function writeFloat(size, little) {
  var scratch = size === 4 ? f32 : f64;
  var bytes = size === 4 ? f32Bytes : f64Bytes;
  var reverse = little !== LITTLE_ENDIAN_HOST;
  return function (value, offset) {
    requireBytes(this);
    scratch[0] = NumberCtor(value);
    var o = checkOffset(this, offset, size);
    for (var i = 0; i < size; i++) this[o + i] = bytes[reverse ? size - 1 - i : i];
    // Node returns offset + size (njs 0.7.9 returns undefined; later njs follows Node).
    return o + size;
  };
}

function numberMethod(name, fn, aliasOf) {
  defineProperty(fn, 'name', { value: name, configurable: true });
  method(proto, name, fn);
  // Node also spells "UInt" as "Uint" (readUint8, writeUintBE, ...).
  if (aliasOf !== undefined) method(proto, aliasOf, fn);
}

var fixedSizes = [[1, '8'], [2, '16'], [4, '32']];
for (var fi = 0; fi < fixedSizes.length; fi++) {
  var size = fixedSizes[fi][0];
  var bits = fixedSizes[fi][1];
  var ends = size === 1 ? [['', false]] : [['BE', false], ['LE', true]];
  for (var ei = 0; ei < ends.length; ei++) {
    var suffix = bits + ends[ei][0];
    var little = ends[ei][1];
    numberMethod('readInt' + suffix, readFixed(size, true, little));
    numberMethod('readUInt' + suffix, readFixed(size, false, little), 'readUint' + suffix);
    numberMethod('writeInt' + suffix, writeFixed(size, true, little));
    numberMethod('writeUInt' + suffix, writeFixed(size, false, little), 'writeUint' + suffix);
  }
}
numberMethod('readIntBE', readVariable(true, false));
numberMethod('readIntLE', readVariable(true, true));
numberMethod('readUIntBE', readVariable(false, false), 'readUintBE');
numberMethod('readUIntLE', readVariable(false, true), 'readUintLE');
numberMethod('writeIntBE', writeVariable(true, false));
numberMethod('writeIntLE', writeVariable(true, true));
numberMethod('writeUIntBE', writeVariable(false, false), 'writeUintBE');
numberMethod('writeUIntLE', writeVariable(false, true), 'writeUintLE');
numberMethod('readFloatBE', readFloat(4, false));
numberMethod('readFloatLE', readFloat(4, true));
numberMethod('readDoubleBE', readFloat(8, false));
numberMethod('readDoubleLE', readFloat(8, true));
numberMethod('writeFloatBE', writeFloat(4, false));
numberMethod('writeFloatLE', writeFloat(4, true));
numberMethod('writeDoubleBE', writeFloat(8, false));
numberMethod('writeDoubleLE', writeFloat(8, true));

// ---------------------------------------------------------------------------------------------
// Views, byte order, conversions.

// Node's reading of slice/subarray bounds: integers, negative from the end, clamped.
function relativeIndex(value, len, fallback) {
  if (value === undefined) return fallback;
  var n = mathTrunc(NumberCtor(value));
  if (n !== n || n === 0) return 0;
  if (n < 0) return n + len > 0 ? n + len : 0;
  return n < len ? n : len;
}

function sliceView(start, end) {
  requireBytes(this);
  var len = taLength(this);
  var s = relativeIndex(start, len, 0);
  var e = relativeIndex(end, len, len);
  return viewOf(this, s, e > s ? e - s : 0);
}
// Both share memory with the original, as in Node (and njs).
method(proto, 'slice', function slice(start, end) {
  return callFn(sliceView, this, start, end);
});
method(proto, 'subarray', function subarray(start, end) {
  return callFn(sliceView, this, start, end);
});

function swapper(size) {
  return function () {
    requireBytes(this);
    var len = taLength(this);
    if (len % size !== 0) {
      throw new RangeErrorCtor('Buffer size must be a multiple of ' + 8 * size + '-bits');
    }
    for (var i = 0; i < len; i += size) {
      for (var a = i, b = i + size - 1; a < b; a++, b--) {
        var t = this[a];
        this[a] = this[b];
        this[b] = t;
      }
    }
    return this;
  };
}
numberMethod('swap16', swapper(2));
numberMethod('swap32', swapper(4));
numberMethod('swap64', swapper(8));

method(proto, 'toJSON', function toJSON() {
  requireBytes(this);
  var len = taLength(this);
  var data = [];
  for (var i = 0; i < len; i++) data[i] = this[i];
  return { type: 'Buffer', data: data };
});

method(proto, 'toString', function toString(encoding, start, end) {
  requireBytes(this);
  var len = taLength(this);
  var code = encodingArg(encoding);
  // ToIndex like njs; bounds past the end are clamped as in Node and later njs (njs 0.7.9 throws
  // a RangeError for them).
  var s = start === undefined ? 0 : toIndex(start);
  var e = end === undefined ? len : toIndex(end);
  if (s > len) s = len;
  if (e > len) e = len;
  return bytesToString(this, code, s, e);
});

method(proto, 'write', function write(string, offset, length, encoding) {
  requireBytes(this);
  if (typeof string !== 'string') throw new TypeErrorCtor('first argument must be a string');
  var len = taLength(this);
  var o = 0;
  var max = len;
  var enc = encoding;
  // Arguments as njs reads them: write(string, encoding), write(string, offset, encoding),
  // write(string, offset, length, encoding); a length or encoding after an undefined offset still
  // counts (Node then ignores both and writes UTF-8).
  if (typeof offset === 'string') {
    enc = offset;
  } else {
    if (offset !== undefined) o = toIndex(offset);
    if (length !== undefined) {
      if (typeof length === 'string') enc = length;
      else max = toIndex(length);
    }
  }
  var code = encodingArg(enc);
  // An offset at the very end writes nothing (njs 0.7.9 throws there; Node and later njs don't).
  if (o > len) throw new RangeErrorCtor('"offset" is out of range');
  // A length beyond the end is cut (njs; Node throws).
  if (max > len - o) max = len - o;
  if (max === 0 || string.length === 0) return 0;
  var bytes = bytesFromString(string, code);
  var n = taLength(bytes);
  if (n > max) {
    n = max;
    // Never half a character (Node; njs 0.7.9 writes the partial bytes).
    if (code === UTF8) {
      while (n > 0 && (bytes[n] & 0xc0) === 0x80) n--;
    }
  }
  if (n > 0) taSet(this, n === taLength(bytes) ? bytes : new U8(taBuffer(bytes), 0, n), o);
  return n;
});

exports.Buffer = Buffer;
