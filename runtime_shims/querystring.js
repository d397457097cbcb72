// The `querystring` module of CloudFront Functions (njs's querystring module): parse / decode,
// stringify / encode, escape, unescape.
//
// For ordinary input the results equal Node's querystring module. Where njs and Node differ,
// edgesim follows njs. Evidence: nginx/njs external/njs_query_string_module.c (0.8.x, the one
// whose parser tests `val != part`) and external/qjs_query_string_module.c:
// - unescape() turns '+' into a space (Node's unescape leaves '+'; only Node's parse() maps it);
// - an ill-formed percent-encoded UTF-8 sequence decodes to one U+FFFD and the escaped byte that
//   broke it is dropped: unescape('%C3%28') is '\uFFFD' (Node: '\uFFFD('). A raw character that
//   breaks a sequence is kept. A '+' inside a sequence becomes a space without ending it.
// - a custom options.decodeURIComponent receives the raw text ('+' included) and only non-empty
//   keys and values; its exceptions propagate (Node retries with its own decoder);
// - options.maxKeys, if present, must be a number (TypeError 'is not a number'); it is truncated,
//   and 0 or a negative number means no limit. Empty pairs ('a&&b') count towards it, as in Node;
// - options.decodeURIComponent / encodeURIComponent that are present but not functions throw a
//   TypeError (Node ignores them). Present means "not undefined" here, as in qjs_query_string;
// - the default decoder / encoder is `this.unescape` / `this.escape`, so parse() and stringify()
//   must be called as methods (`var p = qs.parse; p('a=1')` throws 'QueryString.unescape is not
//   a function', Node works);
// - stringify() puts a separator before every key but the first even when earlier keys produced
//   nothing (empty arrays): stringify({a: [], b: 1}) is '&b=1' (Node: 'b=1'). A custom
//   encodeURIComponent is only called for keys and for string, finite number and boolean values;
// - a sep or eq that is not null/undefined is converted with String(); '' means the default
//   (Node also falls back for other falsy values such as 0).
// The parsed object inherits from Object.prototype, as in njs 0.8 (Node's has a null prototype),
// but keys are always own data properties: 'toString=1' gives {toString: '1'} and '__proto__=x'
// an own '__proto__' key (njs would fold inherited values in or drop the key).
//
// escape() leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) alone and writes everything else as %XX of its
// UTF-8 bytes, upper-case: exactly encodeURIComponent's set, so the native function does the
// work. A lone surrogate is written as U+FFFD (%EF%BF%BD); Node throws URIError (njs strings
// cannot hold one: unverified).

var I = shims.intrinsics;
var uncurry = I.uncurry;

var U8 = I.U8;
var U16 = I.U16;
var TypeErrorCtor = I.TypeErrorCtor;
var objectKeys = Object.keys;
var isArray = I.isArray;
var defineProperty = I.defineProperty;
var mathTrunc = I.mathTrunc;
var fromCharCode = I.fromCharCode;
var hasOwn = uncurry(Object.prototype.hasOwnProperty);
var charCodeAt = I.charCodeAt;
var strSlice = I.strSlice;
var strIndexOf = I.strIndexOf;
var regexExec = I.regexExec;
var strReplaceAll = uncurry(String.prototype.replaceAll);
var applyFn = I.applyFn;
var taBuffer = I.taBuffer;
var nativeEncodeURIComponent = I.nativeEncodeURIComponent;
var nativeDecodeURIComponent = decodeURIComponent;

var PERCENT_OR_PLUS = /[%+]/;
var CHUNK = 32768;

// ToString, which throws for symbols (String(symbol) would not).
function toStr(value) {
  return typeof value === 'string' ? value : `${value}`;
}

// ---------------------------------------------------------------------------------------------
// escape

var HEX = '0123456789ABCDEF';
var UNRESERVED = new U8(128);
(function () {
  var keep = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()";
  for (var i = 0; i < keep.length; i++) UNRESERVED[charCodeAt(keep, i)] = 1;
})();

function pct(b) {
  return '%' + HEX[b >> 4] + HEX[b & 15];
}

// The slow path, for strings with lone surrogates.
function escapeLoop(s) {
  var out = '';
  var n = s.length;
  for (var i = 0; i < n; i++) {
    var c = charCodeAt(s, i);
    if (c < 0x80) {
      out += UNRESERVED[c] === 1 ? s[i] : pct(c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      var d = c <= 0xdbff && i + 1 < n ? charCodeAt(s, i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        var cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        out += pct(0xf0 | (cp >> 18)) + pct(0x80 | ((cp >> 12) & 0x3f)) +
          pct(0x80 | ((cp >> 6) & 0x3f)) + pct(0x80 | (cp & 0x3f));
        i++;
        continue;
      }
      c = 0xfffd;
    }
    if (c < 0x800) {
      out += pct(0xc0 | (c >> 6)) + pct(0x80 | (c & 0x3f));
    } else {
      out += pct(0xe0 | (c >> 12)) + pct(0x80 | ((c >> 6) & 0x3f)) + pct(0x80 | (c & 0x3f));
    }
  }
  return out;
}

function escapeString(s) {
  try {
    return nativeEncodeURIComponent(s);
  } catch (e) {
    return escapeLoop(s);
  }
}

function escape(str) {
  return escapeString(toStr(str));
}

// ---------------------------------------------------------------------------------------------
// unescape

function hexValue(c) {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

function unitsString(units, k) {
  var ab = taBuffer(units);
  if (k <= CHUNK) return applyFn(fromCharCode, null, new U16(ab, 0, k));
  var out = '';
  for (var from = 0; from < k; from += CHUNK) {
    out += applyFn(fromCharCode, null, new U16(ab, 2 * from, k - from < CHUNK ? k - from : CHUNK));
  }
  return out;
}

// njs's decoder (njs_query_string_decode with njs_utf8_decode), character by character. The
// output is never longer than the input: an escape is three characters and yields at most one
// UTF-16 unit, a four-byte sequence (twelve characters) yields two.
function decodeLoop(s) {
  var n = s.length;
  var units = new U16(n);
  var k = 0;
  var need = 0;
  var cp = 0;
  var lower = 0x80;
  var upper = 0xbf;
  var pending = false;
  var i = 0;
  while (i < n) {
    var c = charCodeAt(s, i);
    var hi, lo;
    if (c === 0x25 && i + 2 < n && (hi = hexValue(charCodeAt(s, i + 1))) >= 0 &&
        (lo = hexValue(charCodeAt(s, i + 2))) >= 0) {
      var b = (hi << 4) | lo;
      i += 3;
      if (need === 0) {
        pending = false;
        if (b < 0x80) {
          units[k++] = b;
        } else if (b >= 0xc2 && b <= 0xdf) {
          need = 1; cp = b & 0x1f; lower = 0x80; upper = 0xbf; pending = true;
        } else if (b >= 0xe0 && b <= 0xef) {
          need = 2; cp = b & 0x0f; pending = true;
          lower = b === 0xe0 ? 0xa0 : 0x80;
          upper = b === 0xed ? 0x9f : 0xbf;
        } else if (b >= 0xf0 && b <= 0xf4) {
          need = 3; cp = b & 0x07; pending = true;
          lower = b === 0xf0 ? 0x90 : 0x80;
          upper = b === 0xf4 ? 0x8f : 0xbf;
        } else {
          units[k++] = 0xfffd;
        }
      } else if (b >= lower && b <= upper) {
        cp = (cp << 6) | (b & 0x3f);
        lower = 0x80;
        upper = 0xbf;
        pending = --need > 0;
        if (!pending) {
          if (cp >= 0x10000) {
            cp -= 0x10000;
            units[k++] = 0xd800 + (cp >> 10);
            units[k++] = 0xdc00 + (cp & 0x3ff);
          } else {
            units[k++] = cp;
          }
        }
      } else {
        // The escaped byte that broke the sequence is lost (njs quirk).
        need = 0;
        pending = false;
        units[k++] = 0xfffd;
      }
      continue;
    }
    i++;
    if (c === 0x2b) {
      // '+' bypasses the UTF-8 decoder: an unfinished sequence stays open.
      units[k++] = 0x20;
      pending = false;
      continue;
    }
    if (need > 0) {
      need = 0;
      units[k++] = 0xfffd;
    }
    pending = false;
    units[k++] = c;
  }
  // njs adds U+FFFD at the end only if the last thing read left a sequence unfinished.
  if (pending) units[k++] = 0xfffd;
  return unitsString(units, k);
}

function unescapeString(s) {
  if (!(regexExec(PERCENT_OR_PLUS, s) !== null)) return s;
  var spaced = strReplaceAll(s, '+', ' ');
  try {
    // Succeeds only when every escape is valid UTF-8, where njs gives the same result.
    return nativeDecodeURIComponent(spaced);
  } catch (e) {
    return decodeLoop(s);
  }
}

function unescape(str) {
  return unescapeString(toStr(str));
}

// ---------------------------------------------------------------------------------------------
// parse

function isObject(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function');
}

function separator(value, fallback) {
  if (value === undefined || value === null) return fallback;
  var s = toStr(value);
  return s.length === 0 ? fallback : s;
}

function addPair(obj, name, value) {
  if (hasOwn(obj, name)) {
    var prev = obj[name];
    if (isArray(prev)) {
      prev[prev.length] = value;
    } else {
      obj[name] = [prev, value];
    }
  } else if (name === '__proto__') {
    defineProperty(obj, name, { value: value, writable: true, enumerable: true,
      configurable: true });
  } else {
    obj[name] = value;
  }
}

function callDecoder(decode, s) {
  if (s.length === 0) return s;
  var r = decode(s);
  return typeof r === 'string' ? r : toStr(r);
}

function parse(qs, sep, eq, options) {
  var str = typeof qs === 'string' ? qs : '';
  var sepStr = separator(sep, '&');
  var eqStr = separator(eq, '=');
  var maxKeys = 1000;
  var decode = null;
  if (isObject(options)) {
    var mk = options.maxKeys;
    if (mk !== undefined) {
      if (typeof mk !== 'number' || mk !== mk) throw new TypeErrorCtor('is not a number');
      maxKeys = mathTrunc(mk);
      if (maxKeys <= 0) maxKeys = -1;
    }
    var d = options.decodeURIComponent;
    if (d !== undefined) {
      if (typeof d !== 'function') {
        throw new TypeErrorCtor('option decodeURIComponent is not a function');
      }
      decode = d;
    }
  }
  if (decode === null) {
    var u = isObject(this) ? this.unescape : undefined;
    if (typeof u !== 'function') throw new TypeErrorCtor('QueryString.unescape is not a function');
    decode = u;
  }
  var native = decode === unescape;
  var obj = {};
  var n = str.length;
  var sepLen = sepStr.length;
  var eqLen = eqStr.length;
  var count = 0;
  var start = 0;
  while (start < n) {
    if (count++ === maxKeys) break;
    var part = strIndexOf(str, sepStr, start);
    if (part < 0) part = n;
    if (part > start) {
      var at = strIndexOf(str, eqStr, start);
      var key, value;
      if (at >= 0 && at + eqLen <= part) {
        key = strSlice(str, start, at);
        value = strSlice(str, at + eqLen, part);
      } else {
        key = strSlice(str, start, part);
        value = '';
      }
      if (native) {
        key = unescapeString(key);
        value = unescapeString(value);
      } else {
        key = callDecoder(decode, key);
        value = callDecoder(decode, value);
      }
      addPair(obj, key, value);
    }
    start = part + sepLen;
  }
  return obj;
}

// ---------------------------------------------------------------------------------------------
// stringify

function stringify(obj, sep, eq, options) {
  if (!isObject(obj)) return '';
  var sepStr = separator(sep, '&');
  var eqStr = separator(eq, '=');
  var encode = null;
  if (isObject(options)) {
    var e = options.encodeURIComponent;
    if (e !== undefined) {
      if (typeof e !== 'function') {
        throw new TypeErrorCtor('option encodeURIComponent is not a function');
      }
      encode = e;
    }
  }
  if (encode === null) {
    var x = isObject(this) ? this.escape : undefined;
    if (typeof x !== 'function') throw new TypeErrorCtor('QueryString.escape is not a function');
    encode = x;
  }
  var native = encode === escape;

  function enc(s) {
    if (native) return s.length === 0 ? s : escapeString(s);
    var r = encode(s);
    return typeof r === 'string' ? r : toStr(r);
  }

  function pair(encodedKey, value) {
    var t = typeof value;
    if (t === 'string' || t === 'boolean' || (t === 'number' && value - value === 0)) {
      return encodedKey + eqStr + enc(t === 'string' ? value : toStr(value));
    }
    return encodedKey + eqStr;
  }

  var keys = objectKeys(obj);
  var out = '';
  var wrote = false;
  for (var i = 0; i < keys.length; i++) {
    var key = keys[i];
    var value = obj[key];
    if (isArray(value)) {
      var len = value.length;
      for (var j = 0; j < len; j++) {
        if (wrote) out += sepStr;
        out += pair(enc(key), value[j]);
        wrote = true;
      }
      continue;
    }
    if (i !== 0) out += sepStr;
    out += pair(enc(key), value);
    wrote = true;
  }
  return out;
}

exports.parse = parse;
exports.stringify = stringify;
exports.decode = parse;
exports.encode = stringify;
exports.escape = escape;
exports.unescape = unescape;
