// Text codecs of runtime cloudfront-js-2.0: atob, btoa, TextEncoder, TextDecoder, plus the UTF-8
// helpers buffer.js builds on (exports.utf8; never installed as a global).
//
// Everything this file calls later is captured at load time, most of it in intrinsics.js: the
// prelude deletes globals CloudFront lacks, and user code may reassign built-in methods during an
// invocation.
// QuickJS's own atob/btoa are deliberately not used: CloudFront follows njs, whose rules differ.
//
// QuickJS interprets every bytecode, so loops over single characters are the slow part. Where a
// native routine does the job (Uint8Array.prototype.toBase64, fromCharCode over a whole typed
// array, regular expressions) it is preferred over a loop in JavaScript.

var I = shims.intrinsics;
var U8 = I.U8;
var U16 = I.U16;
var StringCtor = String;
var TypeErrorCtor = I.TypeErrorCtor;
var RangeErrorCtor = I.RangeErrorCtor;
var fromCharCode = I.fromCharCode;
var isView = I.isView;
var charCodeAt = I.charCodeAt;
var strSlice = I.strSlice;
var toLowerCase = I.toLowerCase;
var regexExec = I.regexExec;
var regexTest = I.regexTest;
var applyFn = I.applyFn;
var taSet = I.taSet;
var toBase64 = I.toBase64;
var setFromBase64 = I.setFromBase64;
var taBuffer = I.taBuffer;
var taByteOffset = I.taByteOffset;
var taByteLength = I.taByteLength;
var taLength = I.taLength;
var taTag = I.taTag;
var dvBuffer = I.dvBuffer;
var dvByteOffset = I.dvByteOffset;
var dvByteLength = I.dvByteLength;
var isUint8Array = I.isUint8Array;
var asArrayBuffer = I.asArrayBuffer;

var NON_ASCII = /[^\x00-\x7f]/;
var NON_LATIN1 = /[^\x00-\xff]/;
var HIGH_BYTE_RUN = /[\x80-\xff]+/g;
// fromCharCode.apply takes at most 65535 arguments in QuickJS.
var CHUNK = 32768;

// A plain Uint8Array over the bytes of an ArrayBuffer, typed array or DataView; null otherwise.
function bytesView(value) {
  if (isView(value)) {
    if (taTag(value) !== undefined) {
      return new U8(taBuffer(value), taByteOffset(value), taByteLength(value));
    }
    return new U8(dvBuffer(value), dvByteOffset(value), dvByteLength(value));
  }
  var ab = asArrayBuffer(value);
  return ab === null ? null : new U8(ab);
}

// ---------------------------------------------------------------------------------------------
// UTF-8 encoding. Lone surrogates become U+FFFD (EF BF BD), as in Node and the WHATWG encoder.

function utf8Length(s) {
  var n = s.length;
  if (!regexTest(NON_ASCII, s)) return n;
  var total = 0;
  for (var i = 0; i < n; i++) {
    var c = charCodeAt(s, i);
    if (c < 0x80) {
      total += 1;
    } else if (c < 0x800) {
      total += 2;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      var d = charCodeAt(s, i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        total += 4;
        i++;
      } else {
        total += 3;
      }
    } else {
      total += 3;
    }
  }
  return total;
}

// Writes the UTF-8 form of s into out (a Uint8Array with room for all of it) from index 0;
// returns the number of bytes.
function writeUtf8(s, out) {
  var n = s.length;
  var j = 0;
  for (var i = 0; i < n; i++) {
    var c = charCodeAt(s, i);
    if (c < 0x80) {
      out[j++] = c;
    } else if (c < 0x800) {
      out[j++] = 0xc0 | (c >> 6);
      out[j++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        var d = c <= 0xdbff && i + 1 < n ? charCodeAt(s, i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          var cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          out[j++] = 0xf0 | (cp >> 18);
          out[j++] = 0x80 | ((cp >> 12) & 0x3f);
          out[j++] = 0x80 | ((cp >> 6) & 0x3f);
          out[j++] = 0x80 | (cp & 0x3f);
          i++;
          continue;
        }
        c = 0xfffd;
      }
      out[j++] = 0xe0 | (c >> 12);
      out[j++] = 0x80 | ((c >> 6) & 0x3f);
      out[j++] = 0x80 | (c & 0x3f);
    }
  }
  return j;
}

// Scratch space for encoding short strings, allocated once so that memory use stays predictable.
var SCRATCH_UNITS = 2048;
var scratch = new U8(3 * SCRATCH_UNITS);

// UTF-8 bytes of s in a new instance of Ctor (a Uint8Array constructor or subclass). One pass into
// space sized for the worst case (3 bytes per UTF-16 unit), then one native copy.
function utf8Encode(s, Ctor) {
  var n = s.length;
  var tmp = n <= SCRATCH_UNITS ? scratch : new U8(3 * n);
  var j = writeUtf8(s, tmp);
  var out = new Ctor(j);
  if (j > 0) taSet(out, new U8(taBuffer(tmp), 0, j));
  return out;
}

// TextEncoder.encodeInto: whole characters only; returns [UTF-16 units read, bytes written].
function utf8EncodeInto(s, dest) {
  var n = s.length;
  var room = taLength(dest);
  var i = 0;
  var j = 0;
  while (i < n) {
    var c = charCodeAt(s, i);
    var units = 1;
    var cp = c;
    if (c >= 0xd800 && c <= 0xdfff) {
      var d = c <= 0xdbff && i + 1 < n ? charCodeAt(s, i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        units = 2;
      } else {
        cp = 0xfffd;
      }
    }
    if (cp < 0x80) {
      if (j + 1 > room) break;
      dest[j++] = cp;
    } else if (cp < 0x800) {
      if (j + 2 > room) break;
      dest[j++] = 0xc0 | (cp >> 6);
      dest[j++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      if (j + 3 > room) break;
      dest[j++] = 0xe0 | (cp >> 12);
      dest[j++] = 0x80 | ((cp >> 6) & 0x3f);
      dest[j++] = 0x80 | (cp & 0x3f);
    } else {
      if (j + 4 > room) break;
      dest[j++] = 0xf0 | (cp >> 18);
      dest[j++] = 0x80 | ((cp >> 12) & 0x3f);
      dest[j++] = 0x80 | ((cp >> 6) & 0x3f);
      dest[j++] = 0x80 | (cp & 0x3f);
    }
    i += units;
  }
  return [i, j];
}

// ---------------------------------------------------------------------------------------------
// Bytes to strings.

// One UTF-16 code unit per byte (a "binary" string). Native work only.
function latin1String(bytes, start, end) {
  if (end - start <= CHUNK) {
    return applyFn(fromCharCode, null, new U8(taBuffer(bytes), taByteOffset(bytes) + start,
      end - start));
  }
  var out = '';
  for (var i = start; i < end; i += CHUNK) {
    var stop = i + CHUNK < end ? i + CHUNK : end;
    out += applyFn(fromCharCode, null, new U8(taBuffer(bytes), taByteOffset(bytes) + i,
      stop - i));
  }
  return out;
}

function invalidData() {
  return new TypeErrorCtor('The encoded data was not valid');
}

// Decodes bytes[start, end), which may hold invalid UTF-8, following the WHATWG decoder: each
// maximal subpart of an ill-formed sequence becomes one U+FFFD (or, when fatal, a TypeError).
function decodeBytes(bytes, start, end, fatal) {
  var units = new U16(end - start);
  var k = 0;
  var i = start;
  while (i < end) {
    var b = bytes[i];
    if (b < 0x80) {
      units[k++] = b;
      i++;
      continue;
    }
    var need;
    var lower = 0x80;
    var upper = 0xbf;
    var cp;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 0x0f;
      if (b === 0xe0) lower = 0xa0;
      else if (b === 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      cp = b & 0x07;
      if (b === 0xf0) lower = 0x90;
      else if (b === 0xf4) upper = 0x8f;
    } else {
      need = 0;
    }
    var j = i + 1;
    var ok = need > 0;
    for (var t = 0; ok && t < need; t++) {
      var c = j < end ? bytes[j] : -1;
      if (c < lower || c > upper) {
        ok = false;
      } else {
        cp = (cp << 6) | (c & 0x3f);
        lower = 0x80;
        upper = 0xbf;
        j++;
      }
    }
    if (!ok) {
      if (fatal) throw invalidData();
      units[k++] = 0xfffd;
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      units[k++] = 0xd800 + (cp >> 10);
      units[k++] = 0xdc00 + (cp & 0x3ff);
    } else {
      units[k++] = cp;
    }
    // The byte that broke a sequence starts the next one.
    i = j;
  }
  // Never more UTF-16 units than bytes, so `units` is large enough.
  var ab = taBuffer(units);
  if (k <= CHUNK) return applyFn(fromCharCode, null, new U16(ab, 0, k));
  var out = '';
  for (var from = 0; from < k; from += CHUNK) {
    out += applyFn(fromCharCode, null, new U16(ab, 2 * from, k - from < CHUNK ? k - from : CHUNK));
  }
  return out;
}

// ASCII stretches shorter than this between non-ASCII bytes are decoded in the same pass.
var ASCII_GAP = 64;

// UTF-8 decoding of bytes[start, end) (bytes: any Uint8Array). ASCII stretches, usually most of
// the text, stay in native code: the bytes become a binary string in one call, and only the
// stretches around bytes >= 0x80 are decoded in JavaScript. ASCII bytes never continue a
// sequence, so cutting the input next to them does not change the result.
function utf8Decode(bytes, start, end, fatal) {
  if (start >= end) return '';
  var binary = latin1String(bytes, start, end);
  if (!regexTest(NON_ASCII, binary)) return binary;
  var out = '';
  var last = 0;
  var segStart = -1;
  var segEnd = 0;
  var m;
  HIGH_BYTE_RUN.lastIndex = 0;
  while ((m = regexExec(HIGH_BYTE_RUN, binary)) !== null) {
    var at = m.index;
    var runEnd = HIGH_BYTE_RUN.lastIndex;
    if (segStart >= 0 && at - segEnd < ASCII_GAP) {
      segEnd = runEnd;
      continue;
    }
    if (segStart >= 0) {
      out += decodeBytes(bytes, start + segStart, start + segEnd, fatal);
      last = segEnd;
    }
    if (at > last) out += strSlice(binary, last, at);
    segStart = at;
    segEnd = runEnd;
  }
  out += decodeBytes(bytes, start + segStart, start + segEnd, fatal);
  if (segEnd < binary.length) out += strSlice(binary, segEnd);
  return out;
}

// How many bytes at the end of bytes[0, len) start a UTF-8 sequence that more input could still
// complete (0 when the tail is complete or already invalid). Used by TextDecoder's stream mode.
function incompleteTail(bytes, len) {
  for (var k = 1; k <= 3 && k <= len; k++) {
    var b = bytes[len - k];
    if ((b & 0xc0) === 0x80) continue;
    var need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2
      : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (need < k) return 0;
    if (k >= 2) {
      var c = bytes[len - k + 1];
      var lower = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
      var upper = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
      if (c < lower || c > upper) return 0;
    }
    return k;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// atob / btoa, with njs 0.7.9's rules (verified with the njs CLI):
// - only the space character is skipped (Node, per WHATWG, also skips \t \n \f \r);
// - padding is optional, but without it a trailing group of 2 or 3 characters is dropped:
//   njs atob('aGk') === '' and atob('YWJjZA') === 'abc' (Node: 'hi', 'abcd');
// - errors are TypeErrors (Node throws DOMException InvalidCharacterError).

var ATOB_SHAPE = /^[A-Za-z0-9+/]*={0,2}$/;
var SPACE = / /;

function atobError() {
  return new TypeErrorCtor('the string to be decoded is not correctly encoded');
}

function withoutSpaces(s) {
  var parts = [];
  var k = 0;
  var from = 0;
  var n = s.length;
  for (var i = 0; i < n; i++) {
    if (charCodeAt(s, i) === 0x20) {
      if (i > from) parts[k++] = strSlice(s, from, i);
      from = i + 1;
    }
  }
  var out = '';
  for (var j = 0; j < k; j++) out += parts[j];
  return from < n ? out + strSlice(s, from) : out;
}

function atob(data) {
  var s = StringCtor(data);
  if (regexTest(SPACE, s)) s = withoutSpaces(s);
  if (!regexTest(ATOB_SHAPE, s)) throw atobError();
  var n = s.length;
  var pads = 0;
  if (n > 0 && charCodeAt(s, n - 1) === 0x3d) {
    if (n % 4 !== 0) throw atobError();
    pads = charCodeAt(s, n - 2) === 0x3d ? 2 : 1;
  } else {
    if (n % 4 === 1) throw atobError();
    if (n % 4 !== 0) {
      n -= n % 4;
      s = strSlice(s, 0, n);
    }
  }
  var out = new U8((n / 4) * 3 - pads);
  setFromBase64(out, s);
  return latin1String(out, 0, taLength(out));
}

function btoa(data) {
  var s = StringCtor(data);
  if (regexTest(NON_LATIN1, s)) {
    // njs 0.7.9 wording.
    throw new TypeErrorCtor('invalid character (>= U+00FF)');
  }
  var n = s.length;
  var bytes = new U8(n);
  for (var i = 0; i < n; i++) bytes[i] = charCodeAt(s, i);
  return toBase64(bytes);
}

// ---------------------------------------------------------------------------------------------
// TextEncoder / TextDecoder (WHATWG Encoding; UTF-8 only, as in njs).

class TextEncoder {
  #brand = true;

  static #check(self) {
    if (!(self !== null && typeof self === 'object' && #brand in self)) {
      throw new TypeErrorCtor('"this" is not a TextEncoder');
    }
  }

  get encoding() {
    TextEncoder.#check(this);
    return 'utf-8';
  }

  encode(input) {
    TextEncoder.#check(this);
    return utf8Encode(input === undefined ? '' : StringCtor(input), U8);
  }

  encodeInto(source, destination) {
    TextEncoder.#check(this);
    if (!isUint8Array(destination)) {
      throw new TypeErrorCtor('The "destination" argument must be an instance of Uint8Array');
    }
    var r = utf8EncodeInto(StringCtor(source), destination);
    return { read: r[0], written: r[1] };
  }
}

// The WHATWG labels of UTF-8. njs 0.7.9 accepts only 'utf-8' and 'utf8', case-sensitively;
// edgesim follows Node (and the standard) here, like Buffer's encoding names.
var UTF8_LABELS = ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8',
  'x-unicode20utf8'];

function isAsciiWhitespace(c) {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

function isUtf8Label(label) {
  var from = 0;
  var to = label.length;
  while (from < to && isAsciiWhitespace(charCodeAt(label, from))) from++;
  while (to > from && isAsciiWhitespace(charCodeAt(label, to - 1))) to--;
  var name = toLowerCase(strSlice(label, from, to));
  for (var i = 0; i < UTF8_LABELS.length; i++) {
    if (UTF8_LABELS[i] === name) return true;
  }
  return false;
}

class TextDecoder {
  #fatal;
  #ignoreBOM;
  #pending = null;
  #bomSeen = false;
  #streaming = false;

  constructor(label, options) {
    if (label !== undefined) {
      var name = StringCtor(label);
      if (!isUtf8Label(name)) {
        throw new RangeErrorCtor('The "' + name + '" encoding is not supported');
      }
    }
    var fatal = false;
    var ignoreBOM = false;
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object' && typeof options !== 'function') {
        throw new TypeErrorCtor('The "options" argument must be of type object');
      }
      fatal = !!options.fatal;
      ignoreBOM = !!options.ignoreBOM;
    }
    this.#fatal = fatal;
    this.#ignoreBOM = ignoreBOM;
  }

  static #check(self) {
    if (!(self !== null && typeof self === 'object' && #fatal in self)) {
      throw new TypeErrorCtor('"this" is not a TextDecoder');
    }
  }

  get encoding() {
    TextDecoder.#check(this);
    return 'utf-8';
  }

  get fatal() {
    TextDecoder.#check(this);
    return this.#fatal;
  }

  get ignoreBOM() {
    TextDecoder.#check(this);
    return this.#ignoreBOM;
  }

  decode(input, options) {
    TextDecoder.#check(this);
    var bytes;
    if (input === undefined) {
      bytes = new U8(0);
    } else {
      bytes = bytesView(input);
      if (bytes === null) {
        throw new TypeErrorCtor('The "input" argument must be an instance of TypedArray');
      }
    }
    var stream = false;
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object' && typeof options !== 'function') {
        throw new TypeErrorCtor('The "options" argument must be of type object');
      }
      stream = !!options.stream;
    }
    if (!this.#streaming) {
      this.#pending = null;
      this.#bomSeen = false;
    }
    this.#streaming = stream;
    var len = taLength(bytes);
    var pending = this.#pending;
    if (pending !== null) {
      var joined = new U8(taLength(pending) + len);
      taSet(joined, pending);
      taSet(joined, bytes, taLength(pending));
      bytes = joined;
      len = taLength(joined);
      this.#pending = null;
    }
    var end = len;
    if (stream) {
      var hold = incompleteTail(bytes, len);
      if (hold > 0) {
        end = len - hold;
        var keep = new U8(hold);
        for (var i = 0; i < hold; i++) keep[i] = bytes[end + i];
        this.#pending = keep;
      }
    }
    var text;
    if (!stream || end > 0) {
      try {
        text = utf8Decode(bytes, 0, end, this.#fatal);
      } catch (e) {
        this.#pending = null;
        this.#streaming = false;
        throw e;
      }
    } else {
      text = '';
    }
    if (!this.#ignoreBOM && !this.#bomSeen && text.length > 0) {
      this.#bomSeen = true;
      if (charCodeAt(text, 0) === 0xfeff) text = strSlice(text, 1);
    }
    return text;
  }
}

exports.atob = atob;
exports.btoa = btoa;
exports.TextEncoder = TextEncoder;
exports.TextDecoder = TextDecoder;

// Internal helpers for buffer.js.
exports.utf8 = {
  length: utf8Length,
  encode: utf8Encode,
  write: writeUtf8,
  decode: utf8Decode,
  latin1: latin1String,
};
