// Captured intrinsics: the built-ins the shims call after load time, taken once, before any other
// shim, the prelude or user code runs. The prelude deletes globals CloudFront lacks (`unescape`,
// for one), and user code may reassign built-in methods or getters during an invocation
// (`String.prototype.charCodeAt = ...`, a new `Uint8Array.prototype` accessor); shims call these
// captures instead, so nothing they do depends on what user code has changed.
//
// Every capture that more than one shim uses lives here; a shim takes what it needs with
// `var I = shims.intrinsics; var charCodeAt = I.charCodeAt;` and keeps captures only it uses
// local (made with I.uncurry / I.TypedArrayProto). The exports object is frozen.

var U8 = Uint8Array;
var getOwnDescriptor = Object.getOwnPropertyDescriptor;
var isView = ArrayBuffer.isView;

// uncurry(f)(thisArg, ...args) is f.call(thisArg, ...args) without looking anything up at call time.
var uncurry = Function.prototype.bind.bind(Function.prototype.call);
// Only RegExp.prototype.exec is called: test() and replace() look `exec` up again at call time.
var regexExec = uncurry(RegExp.prototype.exec);
var TypedArrayProto = Object.getPrototypeOf(U8.prototype);
function getter(proto, key) {
  return uncurry(getOwnDescriptor(proto, key).get);
}
var taTag = getter(TypedArrayProto, Symbol.toStringTag);
var abByteLength = getter(ArrayBuffer.prototype, 'byteLength');

function regexTest(re, s) {
  return regexExec(re, s) !== null;
}

function isUint8Array(value) {
  return isView(value) && taTag(value) === 'Uint8Array';
}

// `value` if it is an ArrayBuffer, else null (the byteLength getter throws for anything else).
function asArrayBuffer(value) {
  if (value === null || typeof value !== 'object') return null;
  try {
    abByteLength(value);
    return value;
  } catch (e) {
    return null;
  }
}

// Constructors and static functions.
exports.U8 = U8;
exports.U16 = Uint16Array;
exports.TypeErrorCtor = TypeError;
exports.RangeErrorCtor = RangeError;
exports.fromCharCode = String.fromCharCode;
exports.isArray = Array.isArray;
exports.isView = isView;
exports.mathTrunc = Math.trunc;
exports.defineProperty = Object.defineProperty;
// Natives the prelude removes from user view (`unescape`) or user code may reassign.
exports.nativeEncodeURIComponent = encodeURIComponent;
exports.nativeUnescape = typeof unescape === 'function' ? unescape : null;

// Methods, uncurried.
exports.uncurry = uncurry;
exports.charCodeAt = uncurry(String.prototype.charCodeAt);
exports.strSlice = uncurry(String.prototype.slice);
exports.strIndexOf = uncurry(String.prototype.indexOf);
exports.toLowerCase = uncurry(String.prototype.toLowerCase);
exports.regexExec = regexExec;
exports.regexTest = regexTest;
// Note: applyFn(fromCharCode, null, typedArray) still reads the array's `length` through the
// prototype chain, so a user-defined `length` accessor reaches it (a known gap, see
// tests/unit/runtime/test_shim_intrinsics.py).
exports.applyFn = uncurry(Function.prototype.apply);

// Typed arrays, ArrayBuffer and DataView: methods and accessors.
exports.TypedArrayProto = TypedArrayProto;
exports.taSet = uncurry(TypedArrayProto.set);
exports.taFill = uncurry(TypedArrayProto.fill);
exports.toHex = uncurry(U8.prototype.toHex);
exports.toBase64 = uncurry(U8.prototype.toBase64);
exports.setFromBase64 = uncurry(U8.prototype.setFromBase64);
exports.taBuffer = getter(TypedArrayProto, 'buffer');
exports.taByteOffset = getter(TypedArrayProto, 'byteOffset');
exports.taByteLength = getter(TypedArrayProto, 'byteLength');
exports.taLength = getter(TypedArrayProto, 'length');
exports.taTag = taTag;
exports.abByteLength = abByteLength;
exports.dvBuffer = getter(DataView.prototype, 'buffer');
exports.dvByteOffset = getter(DataView.prototype, 'byteOffset');
exports.dvByteLength = getter(DataView.prototype, 'byteLength');
exports.isUint8Array = isUint8Array;
exports.asArrayBuffer = asArrayBuffer;

Object.freeze(exports);
