// The `crypto` module of CloudFront Functions: createHash() and createHmac() over md5, sha1 and
// sha256, and nothing else: AWS documents no randomBytes, subtle, hash.copy() (reference notes §3).
// MD5, SHA-1, SHA-256 and HMAC are written here in plain JavaScript.
//
// Behaviour follows njs's crypto module (external/njs_crypto_module.c), where AWS is silent:
// - algorithm names are matched exactly ('SHA256' is not supported, Node accepts it);
// - update(data[, inputEncoding]) takes a string or any Buffer-like object (typed array,
//   DataView, ArrayBuffer) and returns the same object; a string with an input encoding
//   ('utf8', 'hex', 'base64', 'base64url') is decoded as Buffer.from(data, encoding) would;
// - digest([encoding]) takes 'hex', 'base64' or 'base64url' (unpadded); without one it gives a
//   Buffer in runtime 2.0 and a byte string in 1.0 (AWS runtime feature list). An unknown encoding
//   throws before the hash is finished, so a later digest() still works, as in njs;
// - after digest(), update() and digest() throw `Error: Digest already called` (njs's njs_error;
//   Node sets a code on a plain Error too).
//
// Strings are hashed as their UTF-8 bytes. Runtime 1.0 differs: njs of that era had byte strings
// (digest() with no encoding returns one, so does String.bytesFrom()) and hashed a byte string as
// its raw bytes. QuickJS has no byte strings, so in 1.0 a string whose characters are all
// U+0000..U+00FF counts as a byte string and is hashed one byte per character (this keeps chained
// HMACs such as SigV4 key derivation right); a string with any larger character is hashed as UTF-8.
// The approximation misreads 1.0 text like 'café', which njs would hash as UTF-8.
//
// Speed: user code calls this inside a 1 ms compute budget, and QuickJS interprets every
// operation: one SHA-256 block is about 7,800 bytecode operations, some 40 µs on the development
// machine. The compression functions keep the state in local variables, read the message straight
// from the caller's bytes, unroll the rounds so that variables swap roles by renaming instead of
// moving, and allocate nothing per block (MD5 and SHA-1 reuse Int32Array schedules, SHA-256 keeps
// its sixteen message words in locals). Strings become bytes through native routines, and HMAC
// remembers the pad states of recent keys (see makeKeyCache).

var I = shims.intrinsics;
var text = shims.text;
var utf8 = text.utf8;
var isUint8Array = I.isUint8Array;
var asArrayBuffer = I.asArrayBuffer;
var utf8Write = utf8.write;
var latin1String = utf8.latin1;
var Buffer = shims.buffer.Buffer;
var bufferFrom = Buffer.from;

var U8 = I.U8;
var I32 = Int32Array;
var TypeErrorCtor = I.TypeErrorCtor;
var ErrorCtor = Error;
var defineProperty = I.defineProperty;
var isView = I.isView;
var charCodeAt = I.charCodeAt;
var regexExec = I.regexExec;
var taSet = I.taSet;
var taFill = I.taFill;
var toHex = I.toHex;
var toBase64 = I.toBase64;
var taBuffer = I.taBuffer;
var taByteOffset = I.taByteOffset;
var taByteLength = I.taByteLength;
var taLength = I.taLength;
var taTag = I.taTag;
var abByteLength = I.abByteLength;
var dvBuffer = I.dvBuffer;
var dvByteOffset = I.dvByteOffset;
var dvByteLength = I.dvByteLength;
var symToStringTag = Symbol.toStringTag;

var B64 = { alphabet: 'base64', omitPadding: false };
var B64URL = { alphabet: 'base64url', omitPadding: true };
var NON_LATIN1 = /[^\x00-\xff]/;

// ---------------------------------------------------------------------------------------------
// Compression functions: fold n 64-byte blocks of d, starting at byte off, into the state h.

var MD5_K = new I32([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);
// Message word order of each MD5 step: k, (1 + 5k) mod 16, (5 + 3k) mod 16, 7k mod 16.
var MD5_ORDER = new I32(64);
for (var step = 0; step < 16; step++) {
  MD5_ORDER[step] = step;
  MD5_ORDER[16 + step] = (1 + 5 * step) & 15;
  MD5_ORDER[32 + step] = (5 + 3 * step) & 15;
  MD5_ORDER[48 + step] = (7 * step) & 15;
}
var md5X = new I32(16);

function md5Blocks(h, d, off, n) {
  var a0 = h[0], b0 = h[1], c0 = h[2], d0 = h[3];
  var X = md5X, K = MD5_K, O = MD5_ORDER;
  var a, b, c, e, t, i, j;
  while (n-- > 0) {
    for (j = 0; j < 16; j++, off += 4) {
      X[j] = d[off] | (d[off + 1] << 8) | (d[off + 2] << 16) | (d[off + 3] << 24);
    }
    a = a0; b = b0; c = c0; e = d0;
    // Each pass of a loop body is four steps; the roles of a, b, c, e rotate by renaming.
    for (i = 0; i < 16; i += 4) {
      t = (a + ((b & c) | (~b & e)) + K[i] + X[i]) | 0;
      a = (b + ((t << 7) | (t >>> 25))) | 0;
      t = (e + ((a & b) | (~a & c)) + K[i + 1] + X[i + 1]) | 0;
      e = (a + ((t << 12) | (t >>> 20))) | 0;
      t = (c + ((e & a) | (~e & b)) + K[i + 2] + X[i + 2]) | 0;
      c = (e + ((t << 17) | (t >>> 15))) | 0;
      t = (b + ((c & e) | (~c & a)) + K[i + 3] + X[i + 3]) | 0;
      b = (c + ((t << 22) | (t >>> 10))) | 0;
    }
    for (; i < 32; i += 4) {
      t = (a + ((b & e) | (c & ~e)) + K[i] + X[O[i]]) | 0;
      a = (b + ((t << 5) | (t >>> 27))) | 0;
      t = (e + ((a & c) | (b & ~c)) + K[i + 1] + X[O[i + 1]]) | 0;
      e = (a + ((t << 9) | (t >>> 23))) | 0;
      t = (c + ((e & b) | (a & ~b)) + K[i + 2] + X[O[i + 2]]) | 0;
      c = (e + ((t << 14) | (t >>> 18))) | 0;
      t = (b + ((c & a) | (e & ~a)) + K[i + 3] + X[O[i + 3]]) | 0;
      b = (c + ((t << 20) | (t >>> 12))) | 0;
    }
    for (; i < 48; i += 4) {
      t = (a + (b ^ c ^ e) + K[i] + X[O[i]]) | 0;
      a = (b + ((t << 4) | (t >>> 28))) | 0;
      t = (e + (a ^ b ^ c) + K[i + 1] + X[O[i + 1]]) | 0;
      e = (a + ((t << 11) | (t >>> 21))) | 0;
      t = (c + (e ^ a ^ b) + K[i + 2] + X[O[i + 2]]) | 0;
      c = (e + ((t << 16) | (t >>> 16))) | 0;
      t = (b + (c ^ e ^ a) + K[i + 3] + X[O[i + 3]]) | 0;
      b = (c + ((t << 23) | (t >>> 9))) | 0;
    }
    for (; i < 64; i += 4) {
      t = (a + (c ^ (b | ~e)) + K[i] + X[O[i]]) | 0;
      a = (b + ((t << 6) | (t >>> 26))) | 0;
      t = (e + (b ^ (a | ~c)) + K[i + 1] + X[O[i + 1]]) | 0;
      e = (a + ((t << 10) | (t >>> 22))) | 0;
      t = (c + (a ^ (e | ~b)) + K[i + 2] + X[O[i + 2]]) | 0;
      c = (e + ((t << 15) | (t >>> 17))) | 0;
      t = (b + (e ^ (c | ~a)) + K[i + 3] + X[O[i + 3]]) | 0;
      b = (c + ((t << 21) | (t >>> 11))) | 0;
    }
    a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + e) | 0;
  }
  h[0] = a0; h[1] = b0; h[2] = c0; h[3] = d0;
}

var sha1W = new I32(80);

function sha1Blocks(h, d, off, n) {
  var h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4];
  var W = sha1W;
  var a, b, c, e, f, t, i;
  while (n-- > 0) {
    for (i = 0; i < 16; i++, off += 4) {
      W[i] = (d[off] << 24) | (d[off + 1] << 16) | (d[off + 2] << 8) | d[off + 3];
    }
    for (; i < 80; i++) {
      t = W[i - 3] ^ W[i - 8] ^ W[i - 14] ^ W[i - 16];
      W[i] = (t << 1) | (t >>> 31);
    }
    a = h0; b = h1; c = h2; e = h3; f = h4;
    // Five steps per pass; step s adds into the variable that is "e" for it and rotates "b".
    for (i = 0; i < 20; i += 5) {
      f = (f + ((a << 5) | (a >>> 27)) + ((b & c) | (~b & e)) + 0x5a827999 + W[i]) | 0;
      b = (b << 30) | (b >>> 2);
      e = (e + ((f << 5) | (f >>> 27)) + ((a & b) | (~a & c)) + 0x5a827999 + W[i + 1]) | 0;
      a = (a << 30) | (a >>> 2);
      c = (c + ((e << 5) | (e >>> 27)) + ((f & a) | (~f & b)) + 0x5a827999 + W[i + 2]) | 0;
      f = (f << 30) | (f >>> 2);
      b = (b + ((c << 5) | (c >>> 27)) + ((e & f) | (~e & a)) + 0x5a827999 + W[i + 3]) | 0;
      e = (e << 30) | (e >>> 2);
      a = (a + ((b << 5) | (b >>> 27)) + ((c & e) | (~c & f)) + 0x5a827999 + W[i + 4]) | 0;
      c = (c << 30) | (c >>> 2);
    }
    for (; i < 40; i += 5) {
      f = (f + ((a << 5) | (a >>> 27)) + (b ^ c ^ e) + 0x6ed9eba1 + W[i]) | 0;
      b = (b << 30) | (b >>> 2);
      e = (e + ((f << 5) | (f >>> 27)) + (a ^ b ^ c) + 0x6ed9eba1 + W[i + 1]) | 0;
      a = (a << 30) | (a >>> 2);
      c = (c + ((e << 5) | (e >>> 27)) + (f ^ a ^ b) + 0x6ed9eba1 + W[i + 2]) | 0;
      f = (f << 30) | (f >>> 2);
      b = (b + ((c << 5) | (c >>> 27)) + (e ^ f ^ a) + 0x6ed9eba1 + W[i + 3]) | 0;
      e = (e << 30) | (e >>> 2);
      a = (a + ((b << 5) | (b >>> 27)) + (c ^ e ^ f) + 0x6ed9eba1 + W[i + 4]) | 0;
      c = (c << 30) | (c >>> 2);
    }
    for (; i < 60; i += 5) {
      f = (f + ((a << 5) | (a >>> 27)) + ((b & c) | (b & e) | (c & e)) + 0x8f1bbcdc + W[i]) | 0;
      b = (b << 30) | (b >>> 2);
      e = (e + ((f << 5) | (f >>> 27)) + ((a & b) | (a & c) | (b & c)) + 0x8f1bbcdc + W[i + 1]) | 0;
      a = (a << 30) | (a >>> 2);
      c = (c + ((e << 5) | (e >>> 27)) + ((f & a) | (f & b) | (a & b)) + 0x8f1bbcdc + W[i + 2]) | 0;
      f = (f << 30) | (f >>> 2);
      b = (b + ((c << 5) | (c >>> 27)) + ((e & f) | (e & a) | (f & a)) + 0x8f1bbcdc + W[i + 3]) | 0;
      e = (e << 30) | (e >>> 2);
      a = (a + ((b << 5) | (b >>> 27)) + ((c & e) | (c & f) | (e & f)) + 0x8f1bbcdc + W[i + 4]) | 0;
      c = (c << 30) | (c >>> 2);
    }
    for (; i < 80; i += 5) {
      f = (f + ((a << 5) | (a >>> 27)) + (b ^ c ^ e) + 0xca62c1d6 + W[i]) | 0;
      b = (b << 30) | (b >>> 2);
      e = (e + ((f << 5) | (f >>> 27)) + (a ^ b ^ c) + 0xca62c1d6 + W[i + 1]) | 0;
      a = (a << 30) | (a >>> 2);
      c = (c + ((e << 5) | (e >>> 27)) + (f ^ a ^ b) + 0xca62c1d6 + W[i + 2]) | 0;
      f = (f << 30) | (f >>> 2);
      b = (b + ((c << 5) | (c >>> 27)) + (e ^ f ^ a) + 0xca62c1d6 + W[i + 3]) | 0;
      e = (e << 30) | (e >>> 2);
      a = (a + ((b << 5) | (b >>> 27)) + (c ^ e ^ f) + 0xca62c1d6 + W[i + 4]) | 0;
      c = (c << 30) | (c >>> 2);
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + e) | 0;
    h4 = (h4 + f) | 0;
  }
  h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4;
}

var SHA256_K = new I32([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// The sixteen message words live in local variables (w0..w15) and are expanded in place, sixteen
// at a time: reading locals is much cheaper than reading a typed array in QuickJS. Each pass of
// the inner loop is sixteen steps; step j computes T1 into the variable that plays "h" for it,
// adds it to the one that plays "d", then adds T2, so the eight working variables rotate roles
// by renaming and no step moves a value.
function sha256Blocks(H, m, off, n) {
  var h0 = H[0], h1 = H[1], h2 = H[2], h3 = H[3], h4 = H[4], h5 = H[5], h6 = H[6], h7 = H[7];
  var K = SHA256_K;
  var a, b, c, d, e, f, g, h, i;
  var w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15;
  while (n-- > 0) {
    w0 = m[off] << 24 | m[off + 1] << 16 | m[off + 2] << 8 | m[off + 3];
    w1 = m[off + 4] << 24 | m[off + 5] << 16 | m[off + 6] << 8 | m[off + 7];
    w2 = m[off + 8] << 24 | m[off + 9] << 16 | m[off + 10] << 8 | m[off + 11];
    w3 = m[off + 12] << 24 | m[off + 13] << 16 | m[off + 14] << 8 | m[off + 15];
    w4 = m[off + 16] << 24 | m[off + 17] << 16 | m[off + 18] << 8 | m[off + 19];
    w5 = m[off + 20] << 24 | m[off + 21] << 16 | m[off + 22] << 8 | m[off + 23];
    w6 = m[off + 24] << 24 | m[off + 25] << 16 | m[off + 26] << 8 | m[off + 27];
    w7 = m[off + 28] << 24 | m[off + 29] << 16 | m[off + 30] << 8 | m[off + 31];
    w8 = m[off + 32] << 24 | m[off + 33] << 16 | m[off + 34] << 8 | m[off + 35];
    w9 = m[off + 36] << 24 | m[off + 37] << 16 | m[off + 38] << 8 | m[off + 39];
    w10 = m[off + 40] << 24 | m[off + 41] << 16 | m[off + 42] << 8 | m[off + 43];
    w11 = m[off + 44] << 24 | m[off + 45] << 16 | m[off + 46] << 8 | m[off + 47];
    w12 = m[off + 48] << 24 | m[off + 49] << 16 | m[off + 50] << 8 | m[off + 51];
    w13 = m[off + 52] << 24 | m[off + 53] << 16 | m[off + 54] << 8 | m[off + 55];
    w14 = m[off + 56] << 24 | m[off + 57] << 16 | m[off + 58] << 8 | m[off + 59];
    w15 = m[off + 60] << 24 | m[off + 61] << 16 | m[off + 62] << 8 | m[off + 63];
    off += 64;
    a = h0; b = h1; c = h2; d = h3; e = h4; f = h5; g = h6; h = h7;
    for (i = 0; i < 64; i += 16) {
      if (i > 0) {
        w0 = (w0 + w9 + ((w1 >>> 7 | w1 << 25) ^ (w1 >>> 18 | w1 << 14) ^ w1 >>> 3) +
          ((w14 >>> 17 | w14 << 15) ^ (w14 >>> 19 | w14 << 13) ^ w14 >>> 10)) | 0;
        w1 = (w1 + w10 + ((w2 >>> 7 | w2 << 25) ^ (w2 >>> 18 | w2 << 14) ^ w2 >>> 3) +
          ((w15 >>> 17 | w15 << 15) ^ (w15 >>> 19 | w15 << 13) ^ w15 >>> 10)) | 0;
        w2 = (w2 + w11 + ((w3 >>> 7 | w3 << 25) ^ (w3 >>> 18 | w3 << 14) ^ w3 >>> 3) +
          ((w0 >>> 17 | w0 << 15) ^ (w0 >>> 19 | w0 << 13) ^ w0 >>> 10)) | 0;
        w3 = (w3 + w12 + ((w4 >>> 7 | w4 << 25) ^ (w4 >>> 18 | w4 << 14) ^ w4 >>> 3) +
          ((w1 >>> 17 | w1 << 15) ^ (w1 >>> 19 | w1 << 13) ^ w1 >>> 10)) | 0;
        w4 = (w4 + w13 + ((w5 >>> 7 | w5 << 25) ^ (w5 >>> 18 | w5 << 14) ^ w5 >>> 3) +
          ((w2 >>> 17 | w2 << 15) ^ (w2 >>> 19 | w2 << 13) ^ w2 >>> 10)) | 0;
        w5 = (w5 + w14 + ((w6 >>> 7 | w6 << 25) ^ (w6 >>> 18 | w6 << 14) ^ w6 >>> 3) +
          ((w3 >>> 17 | w3 << 15) ^ (w3 >>> 19 | w3 << 13) ^ w3 >>> 10)) | 0;
        w6 = (w6 + w15 + ((w7 >>> 7 | w7 << 25) ^ (w7 >>> 18 | w7 << 14) ^ w7 >>> 3) +
          ((w4 >>> 17 | w4 << 15) ^ (w4 >>> 19 | w4 << 13) ^ w4 >>> 10)) | 0;
        w7 = (w7 + w0 + ((w8 >>> 7 | w8 << 25) ^ (w8 >>> 18 | w8 << 14) ^ w8 >>> 3) +
          ((w5 >>> 17 | w5 << 15) ^ (w5 >>> 19 | w5 << 13) ^ w5 >>> 10)) | 0;
        w8 = (w8 + w1 + ((w9 >>> 7 | w9 << 25) ^ (w9 >>> 18 | w9 << 14) ^ w9 >>> 3) +
          ((w6 >>> 17 | w6 << 15) ^ (w6 >>> 19 | w6 << 13) ^ w6 >>> 10)) | 0;
        w9 = (w9 + w2 + ((w10 >>> 7 | w10 << 25) ^ (w10 >>> 18 | w10 << 14) ^ w10 >>> 3) +
          ((w7 >>> 17 | w7 << 15) ^ (w7 >>> 19 | w7 << 13) ^ w7 >>> 10)) | 0;
        w10 = (w10 + w3 + ((w11 >>> 7 | w11 << 25) ^ (w11 >>> 18 | w11 << 14) ^ w11 >>> 3) +
          ((w8 >>> 17 | w8 << 15) ^ (w8 >>> 19 | w8 << 13) ^ w8 >>> 10)) | 0;
        w11 = (w11 + w4 + ((w12 >>> 7 | w12 << 25) ^ (w12 >>> 18 | w12 << 14) ^ w12 >>> 3) +
          ((w9 >>> 17 | w9 << 15) ^ (w9 >>> 19 | w9 << 13) ^ w9 >>> 10)) | 0;
        w12 = (w12 + w5 + ((w13 >>> 7 | w13 << 25) ^ (w13 >>> 18 | w13 << 14) ^ w13 >>> 3) +
          ((w10 >>> 17 | w10 << 15) ^ (w10 >>> 19 | w10 << 13) ^ w10 >>> 10)) | 0;
        w13 = (w13 + w6 + ((w14 >>> 7 | w14 << 25) ^ (w14 >>> 18 | w14 << 14) ^ w14 >>> 3) +
          ((w11 >>> 17 | w11 << 15) ^ (w11 >>> 19 | w11 << 13) ^ w11 >>> 10)) | 0;
        w14 = (w14 + w7 + ((w15 >>> 7 | w15 << 25) ^ (w15 >>> 18 | w15 << 14) ^ w15 >>> 3) +
          ((w12 >>> 17 | w12 << 15) ^ (w12 >>> 19 | w12 << 13) ^ w12 >>> 10)) | 0;
        w15 = (w15 + w8 + ((w0 >>> 7 | w0 << 25) ^ (w0 >>> 18 | w0 << 14) ^ w0 >>> 3) +
          ((w13 >>> 17 | w13 << 15) ^ (w13 >>> 19 | w13 << 13) ^ w13 >>> 10)) | 0;
      }
      h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) +
          (g ^ e & (f ^ g)) + K[i] + w0) | 0;
      d = (d + h) | 0;
      h = (h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) +
          (a & b | c & (a | b))) | 0;
      g = (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) +
          (f ^ d & (e ^ f)) + K[i + 1] + w1) | 0;
      c = (c + g) | 0;
      g = (g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) +
          (h & a | b & (h | a))) | 0;
      f = (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) +
          (e ^ c & (d ^ e)) + K[i + 2] + w2) | 0;
      b = (b + f) | 0;
      f = (f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) +
          (g & h | a & (g | h))) | 0;
      e = (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) +
          (d ^ b & (c ^ d)) + K[i + 3] + w3) | 0;
      a = (a + e) | 0;
      e = (e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) +
          (f & g | h & (f | g))) | 0;
      d = (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) +
          (c ^ a & (b ^ c)) + K[i + 4] + w4) | 0;
      h = (h + d) | 0;
      d = (d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) +
          (e & f | g & (e | f))) | 0;
      c = (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) +
          (b ^ h & (a ^ b)) + K[i + 5] + w5) | 0;
      g = (g + c) | 0;
      c = (c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) +
          (d & e | f & (d | e))) | 0;
      b = (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) +
          (a ^ g & (h ^ a)) + K[i + 6] + w6) | 0;
      f = (f + b) | 0;
      b = (b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) +
          (c & d | e & (c | d))) | 0;
      a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) +
          (h ^ f & (g ^ h)) + K[i + 7] + w7) | 0;
      e = (e + a) | 0;
      a = (a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) +
          (b & c | d & (b | c))) | 0;
      h = (h + ((e >>> 6 | e << 26) ^ (e >>> 11 | e << 21) ^ (e >>> 25 | e << 7)) +
          (g ^ e & (f ^ g)) + K[i + 8] + w8) | 0;
      d = (d + h) | 0;
      h = (h + ((a >>> 2 | a << 30) ^ (a >>> 13 | a << 19) ^ (a >>> 22 | a << 10)) +
          (a & b | c & (a | b))) | 0;
      g = (g + ((d >>> 6 | d << 26) ^ (d >>> 11 | d << 21) ^ (d >>> 25 | d << 7)) +
          (f ^ d & (e ^ f)) + K[i + 9] + w9) | 0;
      c = (c + g) | 0;
      g = (g + ((h >>> 2 | h << 30) ^ (h >>> 13 | h << 19) ^ (h >>> 22 | h << 10)) +
          (h & a | b & (h | a))) | 0;
      f = (f + ((c >>> 6 | c << 26) ^ (c >>> 11 | c << 21) ^ (c >>> 25 | c << 7)) +
          (e ^ c & (d ^ e)) + K[i + 10] + w10) | 0;
      b = (b + f) | 0;
      f = (f + ((g >>> 2 | g << 30) ^ (g >>> 13 | g << 19) ^ (g >>> 22 | g << 10)) +
          (g & h | a & (g | h))) | 0;
      e = (e + ((b >>> 6 | b << 26) ^ (b >>> 11 | b << 21) ^ (b >>> 25 | b << 7)) +
          (d ^ b & (c ^ d)) + K[i + 11] + w11) | 0;
      a = (a + e) | 0;
      e = (e + ((f >>> 2 | f << 30) ^ (f >>> 13 | f << 19) ^ (f >>> 22 | f << 10)) +
          (f & g | h & (f | g))) | 0;
      d = (d + ((a >>> 6 | a << 26) ^ (a >>> 11 | a << 21) ^ (a >>> 25 | a << 7)) +
          (c ^ a & (b ^ c)) + K[i + 12] + w12) | 0;
      h = (h + d) | 0;
      d = (d + ((e >>> 2 | e << 30) ^ (e >>> 13 | e << 19) ^ (e >>> 22 | e << 10)) +
          (e & f | g & (e | f))) | 0;
      c = (c + ((h >>> 6 | h << 26) ^ (h >>> 11 | h << 21) ^ (h >>> 25 | h << 7)) +
          (b ^ h & (a ^ b)) + K[i + 13] + w13) | 0;
      g = (g + c) | 0;
      c = (c + ((d >>> 2 | d << 30) ^ (d >>> 13 | d << 19) ^ (d >>> 22 | d << 10)) +
          (d & e | f & (d | e))) | 0;
      b = (b + ((g >>> 6 | g << 26) ^ (g >>> 11 | g << 21) ^ (g >>> 25 | g << 7)) +
          (a ^ g & (h ^ a)) + K[i + 14] + w14) | 0;
      f = (f + b) | 0;
      b = (b + ((c >>> 2 | c << 30) ^ (c >>> 13 | c << 19) ^ (c >>> 22 | c << 10)) +
          (c & d | e & (c | d))) | 0;
      a = (a + ((f >>> 6 | f << 26) ^ (f >>> 11 | f << 21) ^ (f >>> 25 | f << 7)) +
          (h ^ f & (g ^ h)) + K[i + 15] + w15) | 0;
      e = (e + a) | 0;
      a = (a + ((b >>> 2 | b << 30) ^ (b >>> 13 | b << 19) ^ (b >>> 22 | b << 10)) +
          (b & c | d & (b | c))) | 0;
    }
    h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + h) | 0;
  }
  H[0] = h0; H[1] = h1; H[2] = h2; H[3] = h3; H[4] = h4; H[5] = h5; H[6] = h6; H[7] = h7;
}

// ---------------------------------------------------------------------------------------------
// Algorithms. All three have 64-byte blocks and a 64-bit message length in the last block.

var MD5 = {
  size: 16, words: 4, bigEndian: false, blocks: md5Blocks,
  iv: new I32([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]),
};
var SHA1 = {
  size: 20, words: 5, bigEndian: true, blocks: sha1Blocks,
  iv: new I32([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]),
};
var SHA256 = {
  size: 32, words: 8, bigEndian: true, blocks: sha256Blocks,
  iv: new I32([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
    0x1f83d9ab, 0x5be0cd19]),
};

function algorithm(name) {
  if (typeof name !== 'string') throw new TypeErrorCtor('algorithm must be a string');
  switch (name) {
    case 'md5': return MD5;
    case 'sha1': return SHA1;
    case 'sha256': return SHA256;
  }
  throw new TypeErrorCtor('not supported algorithm: "' + name + '"');
}

// A running hash: the algorithm, its chaining state, the unprocessed tail of the input and the
// number of bytes seen. Plain internal objects; users only see them through Hash and Hmac.
function newState(alg) {
  var st = { alg: alg, h: new I32(8), buf: new U8(64), used: 0, total: 0 };
  taSet(st.h, alg.iv);
  return st;
}

function resetState(st) {
  taSet(st.h, st.alg.iv);
  st.used = 0;
  st.total = 0;
}

// Copies src[from, from + len) to dst at index at: a loop for a few bytes, native code otherwise.
function copyBytes(dst, at, src, from, len) {
  if (len < 16) {
    for (var i = 0; i < len; i++) dst[at + i] = src[from + i];
  } else {
    taSet(dst, new U8(taBuffer(src), taByteOffset(src) + from, len), at);
  }
}

function absorb(st, d, off, len) {
  var used = st.used;
  st.total += len;
  if (used > 0) {
    var take = 64 - used < len ? 64 - used : len;
    copyBytes(st.buf, used, d, off, take);
    used += take;
    off += take;
    len -= take;
    if (used < 64) {
      st.used = used;
      return;
    }
    st.alg.blocks(st.h, st.buf, 0, 1);
  }
  var n = len >> 6;
  if (n > 0) {
    st.alg.blocks(st.h, d, off, n);
    off += n << 6;
    len -= n << 6;
  }
  copyBytes(st.buf, 0, d, off, len);
  st.used = len;
}

// Pads, folds the last block(s) and writes the digest into out[0, alg.size).
function finish(st, out) {
  var alg = st.alg;
  var buf = st.buf;
  var used = st.used;
  var total = st.total;
  buf[used++] = 0x80;
  if (used > 56) {
    taFill(buf, 0, used, 64);
    alg.blocks(st.h, buf, 0, 1);
    used = 0;
  }
  taFill(buf, 0, used, 56);
  // Bit length as two 32-bit halves, exact for any length up to 2^53 bytes.
  var hi = (total / 0x20000000) >>> 0;
  var lo = ((total % 0x20000000) * 8) >>> 0;
  var h = st.h;
  var words = alg.words;
  var k, w;
  if (alg.bigEndian) {
    buf[56] = hi >>> 24; buf[57] = hi >>> 16; buf[58] = hi >>> 8; buf[59] = hi;
    buf[60] = lo >>> 24; buf[61] = lo >>> 16; buf[62] = lo >>> 8; buf[63] = lo;
    alg.blocks(h, buf, 0, 1);
    for (k = 0; k < words; k++) {
      w = h[k];
      out[4 * k] = w >>> 24; out[4 * k + 1] = w >>> 16; out[4 * k + 2] = w >>> 8;
      out[4 * k + 3] = w;
    }
  } else {
    buf[56] = lo; buf[57] = lo >>> 8; buf[58] = lo >>> 16; buf[59] = lo >>> 24;
    buf[60] = hi; buf[61] = hi >>> 8; buf[62] = hi >>> 16; buf[63] = hi >>> 24;
    alg.blocks(h, buf, 0, 1);
    for (k = 0; k < words; k++) {
      w = h[k];
      out[4 * k] = w; out[4 * k + 1] = w >>> 8; out[4 * k + 2] = w >>> 16;
      out[4 * k + 3] = w >>> 24;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Input. toBytes() leaves the bytes of a data or key argument in inBytes[inOff, inOff + inLen),
// without copying Buffer-like input. Strings are converted into a reused scratch array.
//
// A loop over the characters of a string costs about as much as compressing a block, so strings
// go through native routines: btoa() of a Latin-1 string and setFromBase64() give its bytes, and
// unescape(encodeURIComponent(s)) first turns any other string into the Latin-1 string of its
// UTF-8 bytes. Lone surrogates (encodeURIComponent throws) take the loop in text.js, which writes
// U+FFFD for them. The natives are captured at load time (unescape and encodeURIComponent in
// intrinsics.js), before the prelude removes `unescape` and installs its own btoa.

var G = globalThis;
var nativeBtoa = typeof G.btoa === 'function' ? G.btoa : null;
var nativeUnescape = I.nativeUnescape;
var nativeEncodeURIComponent = I.nativeEncodeURIComponent;
var setFromBase64 = I.setFromBase64;
var NON_ASCII = /[^\x00-\x7f]/;
var B64_DECODE = { alphabet: 'base64', lastChunkHandling: 'loose' };

var inBytes = null;
var inOff = 0;
var inLen = 0;
var SCRATCH_BYTES = 12288;
var scratch = new U8(SCRATCH_BYTES);

// Bytes of a string whose characters are all U+0000..U+00FF, one per character.
function latin1Bytes(s) {
  var n = s.length;
  var out = n <= SCRATCH_BYTES ? scratch : new U8(n);
  if (nativeBtoa !== null) {
    setFromBase64(out, nativeBtoa(s), B64_DECODE);
  } else {
    for (var i = 0; i < n; i++) out[i] = charCodeAt(s, i);
  }
  inBytes = out;
  inOff = 0;
  inLen = n;
}

function stringBytes(s, legacy) {
  if (!(regexExec(NON_ASCII, s) !== null) ||
      (legacy && !(regexExec(NON_LATIN1, s) !== null))) {
    // ASCII, or a runtime 1.0 byte string (see the top of the file).
    latin1Bytes(s);
    return;
  }
  if (nativeBtoa !== null && nativeUnescape !== null) {
    var binary = null;
    try {
      binary = nativeUnescape(nativeEncodeURIComponent(s));
    } catch (e) {
      // URIError: a lone surrogate.
    }
    if (binary !== null) {
      latin1Bytes(binary);
      return;
    }
  }
  var n = s.length;
  var out = n <= SCRATCH_BYTES / 3 ? scratch : new U8(3 * n);
  inBytes = out;
  inOff = 0;
  inLen = utf8Write(s, out);
}

// false when value is not a string or Buffer-like object.
function toBytes(value, encoding, legacy) {
  if (typeof value === 'string') {
    if (encoding === undefined) {
      stringBytes(value, legacy);
    } else {
      var decoded = bufferFrom(value, encoding);
      inBytes = decoded;
      inOff = 0;
      inLen = taLength(decoded);
    }
    return true;
  }
  if (isView(value)) {
    if (isUint8Array(value)) {
      inBytes = value;
      inOff = 0;
      inLen = taLength(value);
    } else if (taTag(value) !== undefined) {
      inBytes = new U8(taBuffer(value), taByteOffset(value), taByteLength(value));
      inOff = 0;
      inLen = taLength(inBytes);
    } else {
      inBytes = new U8(dvBuffer(value), dvByteOffset(value), dvByteLength(value));
      inOff = 0;
      inLen = taLength(inBytes);
    }
    return true;
  }
  var ab = asArrayBuffer(value);
  if (ab !== null) {
    inBytes = new U8(ab);
    inOff = 0;
    inLen = abByteLength(ab);
    return true;
  }
  return false;
}

function releaseInput() {
  inBytes = null;
}

// ---------------------------------------------------------------------------------------------
// Output.

function checkEncoding(encoding) {
  if (encoding === undefined) return;
  if (typeof encoding !== 'string') throw new TypeErrorCtor('encoding must be a string');
  if (encoding !== 'hex' && encoding !== 'base64' && encoding !== 'base64url') {
    throw new TypeErrorCtor('Unknown digest encoding: "' + encoding + '"');
  }
}

function encodeDigest(out, encoding, legacy) {
  if (encoding === undefined) {
    // 2.0: a Buffer over out's memory; 1.0: a byte string.
    return legacy ? latin1String(out, 0, taLength(out)) : bufferFrom(taBuffer(out));
  }
  if (encoding === 'hex') return toHex(out);
  return toBase64(out, encoding === 'base64' ? B64 : B64URL);
}

function alreadyCalled() {
  return new ErrorCtor('Digest already called');
}

// ---------------------------------------------------------------------------------------------
// HMAC keys. The key only decides the state after the inner pad block and the state after the
// outer pad block, so a crypto object remembers those two states for the last few keys it saw:
// functions usually sign or verify with one fixed secret, and this saves two of the (for a JWT)
// eight block compressions. Keys are compared by value, so results never depend on the cache.

var KEY_CACHE_SIZE = 4;
var MAX_CACHED_KEY = 256;
var keyPad = new U8(64);
var keyPad32 = new I32(taBuffer(keyPad));
var innerDigest = new U8(32);

function sameBytes(a, b, bOff, n) {
  for (var i = 0; i < n; i++) {
    if (a[i] !== b[bOff + i]) return false;
  }
  return true;
}

// Fills entry.inner and entry.outer for the key in inBytes[inOff, inOff + inLen).
function padStates(entry, alg) {
  var st = newState(alg);
  taFill(keyPad, 0);
  if (inLen > 64) {
    absorb(st, inBytes, inOff, inLen);
    finish(st, keyPad);
    resetState(st);
  } else {
    copyBytes(keyPad, 0, inBytes, inOff, inLen);
  }
  var j;
  for (j = 0; j < 16; j++) keyPad32[j] ^= 0x36363636;
  absorb(st, keyPad, 0, 64);
  taSet(entry.inner, st.h);
  resetState(st);
  // 0x36 ^ 0x5c: the inner pad becomes the outer one.
  for (j = 0; j < 16; j++) keyPad32[j] ^= 0x6a6a6a6a;
  absorb(st, keyPad, 0, 64);
  taSet(entry.outer, st.h);
}

function makeKeyCache() {
  var entries = [];
  var next = 0;
  return function lookup(alg, key) {
    var isString = typeof key === 'string';
    var i, e;
    for (i = 0; i < entries.length; i++) {
      e = entries[i];
      if (e.alg !== alg) continue;
      if (isString ? e.key === key
        : e.key === null && e.bytes.length === inLen && sameBytes(e.bytes, inBytes, inOff, inLen)) {
        return e;
      }
    }
    e = { alg: alg, key: null, bytes: null, inner: new I32(8), outer: new I32(8) };
    padStates(e, alg);
    if (isString ? key.length > MAX_CACHED_KEY : inLen > MAX_CACHED_KEY) return e;
    if (isString) {
      e.key = key;
    } else {
      e.bytes = new U8(inLen);
      copyBytes(e.bytes, 0, inBytes, inOff, inLen);
    }
    entries[next] = e;
    next = (next + 1) % KEY_CACHE_SIZE;
    return e;
  };
}

// ---------------------------------------------------------------------------------------------
// Hash and Hmac objects, one pair of classes per crypto object (so per context and runtime). The
// classes stay internal: their prototypes' `constructor` is a plain function that behaves like
// createHash / createHmac, as in njs, where it can be called with or without new.

function hidden(target, key, value) {
  defineProperty(target, key, { value: value, writable: true, configurable: true });
}

exports.makeCrypto = function makeCrypto(runtime) {
  var legacy = runtime === 'cloudfront-js-1.0';
  var keyStates = makeKeyCache();

  function feed(st, data, inputEncoding) {
    if (st === null) throw alreadyCalled();
    if (!toBytes(data, inputEncoding, legacy)) {
      throw new TypeErrorCtor('data is not a string or Buffer-like object');
    }
    absorb(st, inBytes, inOff, inLen);
    releaseInput();
  }

  class Hash {
    #st;

    constructor(alg) {
      this.#st = newState(alg);
    }

    static #check(self) {
      if (!(self !== null && typeof self === 'object' && #st in self)) {
        throw new TypeErrorCtor('"this" is not a hash object');
      }
    }

    update(data, inputEncoding) {
      Hash.#check(this);
      feed(this.#st, data, inputEncoding);
      return this;
    }

    digest(encoding) {
      Hash.#check(this);
      var st = this.#st;
      if (st === null) throw alreadyCalled();
      checkEncoding(encoding);
      var out = new U8(st.alg.size);
      finish(st, out);
      this.#st = null;
      return encodeDigest(out, encoding, legacy);
    }
  }

  class Hmac {
    #st;
    #outer;

    constructor(alg, key) {
      if (!toBytes(key, undefined, legacy)) {
        throw new TypeErrorCtor('key is not a string or Buffer-like object');
      }
      var pads = keyStates(alg, key);
      releaseInput();
      var st = newState(alg);
      taSet(st.h, pads.inner);
      st.total = 64;
      this.#st = st;
      this.#outer = pads.outer;
    }

    static #check(self) {
      if (!(self !== null && typeof self === 'object' && #st in self)) {
        throw new TypeErrorCtor('"this" is not a hmac object');
      }
    }

    update(data, inputEncoding) {
      Hmac.#check(this);
      feed(this.#st, data, inputEncoding);
      return this;
    }

    digest(encoding) {
      Hmac.#check(this);
      var st = this.#st;
      if (st === null) throw alreadyCalled();
      checkEncoding(encoding);
      var size = st.alg.size;
      finish(st, innerDigest);
      taSet(st.h, this.#outer);
      st.used = 0;
      st.total = 64;
      absorb(st, innerDigest, 0, size);
      var out = new U8(size);
      finish(st, out);
      this.#st = null;
      this.#outer = null;
      return encodeDigest(out, encoding, legacy);
    }
  }

  function createHash(alg) {
    return new Hash(algorithm(alg));
  }
  function createHmac(alg, key) {
    return new Hmac(algorithm(alg), key);
  }

  hidden(Hash.prototype, 'constructor', function Hash(alg) { return createHash(alg); });
  hidden(Hmac.prototype, 'constructor', function Hmac(alg, key) { return createHmac(alg, key); });
  hidden(Hash.prototype, symToStringTag, 'Hash');
  hidden(Hmac.prototype, symToStringTag, 'Hmac');
  var crypto = { createHash: createHash, createHmac: createHmac };
  hidden(crypto, symToStringTag, 'crypto');
  return crypto;
};
