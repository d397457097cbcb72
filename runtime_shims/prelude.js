// Prelude: turns a QuickJS context into a CloudFront Functions runtime and returns the internals
// the host (edgesim/runtime/engine.py) drives. Evaluated once per context, after the shims, as the
// body of `function (shims, runtime) { ... }`. Users never see anything defined here except the
// globals it installs on purpose.

var G = globalThis;
var is1 = runtime === 'cloudfront-js-1.0';

// Built-ins the internals keep using after user code may have shadowed or removed globals.
var RealDate = Date;
var jsonParse = JSON.parse;
var jsonStringify = JSON.stringify;
var PromiseCtor = Promise;
var objectKeys = Object.keys;
var ownNames = Object.getOwnPropertyNames;
var defineProperty = Object.defineProperty;
var sameValue = Object.is;
var isExtensible = Object.isExtensible;
var InternalErrorCtor = G.InternalError || Error;

// ---------------------------------------------------------------------------------------------
// Globals CloudFront lacks are removed, so that `typeof URL` feature tests behave as on the edge.
// Evidence (reference notes §2.2): field measurements with test-function and njs's feature set.
var absent = [
  'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'Proxy', 'Reflect',
  'BigInt', 'BigInt64Array', 'BigUint64Array', 'Float16Array', 'SharedArrayBuffer', 'Atomics',
  'Iterator', 'DisposableStack', 'AsyncDisposableStack', 'SuppressedError', 'queueMicrotask',
  'performance', 'DOMException', 'Intl', 'URL', 'URLSearchParams', 'structuredClone',
  'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'fetch',
  'escape', 'unescape',
];
// Runtime 1.0 documents none of these (reference notes §2.4).
var absentIn1 = ['Buffer', 'TextEncoder', 'TextDecoder', 'atob', 'btoa', 'DataView', 'Symbol'];
var absentMethods = [
  [Array.prototype, ['flat', 'flatMap', 'at', 'findLast', 'findLastIndex', 'toSorted',
    'toReversed', 'toSpliced', 'with']],
  [String.prototype, ['at', 'matchAll', 'normalize', 'localeCompare', 'isWellFormed',
    'toWellFormed']],
  [Object, ['fromEntries', 'hasOwn', 'groupBy']],
  [Array, ['fromAsync']],
];
var absentMethodsIn1 = [
  [String.prototype, ['replaceAll']],
  [Promise, ['all', 'allSettled', 'any', 'race']],
  [Object, ['getOwnPropertyDescriptors']],
];

// The engine's clock, kept for metering crypto before `performance` is removed from user view.
var perfNow = G.performance.now.bind(G.performance);

function removeGlobals(names) {
  for (var i = 0; i < names.length; i++) delete G[names[i]];
}
function removeMethods(table) {
  for (var i = 0; i < table.length; i++) {
    for (var j = 0; j < table[i][1].length; j++) delete table[i][0][table[i][1][j]];
  }
}
removeGlobals(absent);
removeMethods(absentMethods);

// ---------------------------------------------------------------------------------------------
// Globals CloudFront has.
var Buffer = shims.buffer.Buffer;
G.Buffer = Buffer;
G.atob = shims.text.atob;
G.btoa = shims.text.btoa;
G.TextEncoder = shims.text.TextEncoder;
G.TextDecoder = shims.text.TextDecoder;
// AWS's docs: eval() and the Function constructor throw. The message follows njs.
function notImplemented() {
  throw new InternalErrorCtor('Not implemented');
}
G.eval = notImplemented;
var FunctionProto = Object.getPrototypeOf(function () {});
var AsyncFunctionProto = Object.getPrototypeOf(async function () {});
defineProperty(FunctionProto, 'constructor', { value: notImplemented, writable: false });
defineProperty(AsyncFunctionProto, 'constructor', { value: notImplemented, writable: false });
G.Function = notImplemented;
notImplemented.prototype = FunctionProto;

if (is1) {
  removeGlobals(absentIn1);
  removeMethods(absentMethodsIn1);
  // njs's nonstandard byte-string methods exist in 1.0 only (AWS docs, runtime 1.0 features).
  var nj = shims.njs_strings;
  defineProperty(String, 'bytesFrom', { value: nj.bytesFrom, writable: true, configurable: true });
  ['fromBytes', 'fromUTF8', 'toBytes', 'toUTF8'].forEach(function (name) {
    defineProperty(String.prototype, name, { value: nj[name], writable: true, configurable: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Per-invocation state.
var st = null;
function freshState(opts) {
  return {
    now: opts.now,
    logs: [],
    logBytes: 0,
    logFull: false,
    origin: [],
    customLog: null,
    nativeMs: 0,
    nativeCalls: 0,
    nativeBytes: 0,
    kvsQueue: [],
    kvsWaiting: {},
    nextKvsId: 1,
    outcome: null,
    eventType: opts.eventType,
    edge: opts.edge,
    kvs: opts.kvs,
    rawQuery: opts.rawQuery,
  };
}

// Date: every "now" is the invocation start (AWS docs, runtime features).
function FrozenDate(a, b, c, d, e, f, g) {
  var n = arguments.length;
  if (!new.target) return new RealDate(st ? st.now : RealDate.now()).toString();
  if (n === 0) return new RealDate(st ? st.now : RealDate.now());
  if (n === 1) return new RealDate(a);
  return new RealDate(a, b, n > 2 ? c : 1, n > 3 ? d : 0, n > 4 ? e : 0, n > 5 ? f : 0,
    n > 6 ? g : 0);
}
FrozenDate.prototype = RealDate.prototype;
FrozenDate.now = function now() { return st ? st.now : RealDate.now(); };
FrozenDate.parse = RealDate.parse;
FrozenDate.UTC = RealDate.UTC;
defineProperty(RealDate.prototype, 'constructor', { value: FrozenDate, writable: true,
  configurable: true });
G.Date = FrozenDate;

// Math.random: seeded per invocation (CloudFront seeds it with the invocation timestamp).
// xoshiro128** seeded through a splitmix-style mixer: fast, 32-bit, reproducible.
var rs0 = 1, rs1 = 2, rs2 = 3, rs3 = 4;
function seedRandom(seed) {
  var s = (seed >>> 0) ^ 0x9e3779b9;
  function next() {
    s = (s + 0x6d2b79f5) | 0;
    var t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }
  rs0 = next(); rs1 = next(); rs2 = next(); rs3 = next();
}
function random() {
  // xoshiro128** step.
  var m = Math.imul(rs1, 5);
  var r = Math.imul((m << 7) | (m >>> 25), 9);
  var t = rs1 << 9;
  rs2 ^= rs0; rs3 ^= rs1; rs1 ^= rs2; rs0 ^= rs3; rs2 ^= t;
  rs3 = (rs3 << 11) | (rs3 >>> 21);
  return (r >>> 0) / 4294967296;
}
Math.random = random;

// console: only log() (AWS docs). Lines are buffered per invocation and capped at 10 KB.
var LOG_CAP = 10 * 1024;
function log() {
  var parts = [];
  for (var i = 0; i < arguments.length; i++) parts.push(logText(arguments[i]));
  appendLog(parts.join(' '));
}
function logText(v) {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && !(v instanceof Error)) {
    try {
      var s = jsonStringify(v);
      if (s !== undefined) return s;
    } catch (e) { /* fall through to String() */ }
  }
  return String(v);
}
function appendLog(line) {
  if (!st || st.logFull) return;
  var bytes = utf8Length(line);
  if (st.logBytes + bytes > LOG_CAP) {
    st.logFull = true;
    var room = LOG_CAP - st.logBytes;
    if (room > 0) st.logs.push(truncateUtf8(line, room));
    st.logBytes = LOG_CAP;
    return;
  }
  st.logBytes += bytes;
  st.logs.push(line);
}
function utf8Length(s) {
  var n = 0;
  for (var i = 0; i < s.length; i++) {
    var c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) { n += 4; i++; }
    else n += 3;
  }
  return n;
}
function truncateUtf8(s, maxBytes) {
  var lo = 0, hi = s.length;
  while (lo < hi) {
    var mid = (lo + hi + 1) >> 1;
    if (utf8Length(s.slice(0, mid)) <= maxBytes) lo = mid; else hi = mid - 1;
  }
  return s.slice(0, lo);
}
var consoleObject = { log: log };
G.console = consoleObject;

// ---------------------------------------------------------------------------------------------
// Host services for the cloudfront module: KVS reads are queued here and settled by the host
// between pending-job runs (JS cannot call into Python while the time limit is armed).
var host = {
  kvsAssociated: function () { return st !== null && st.kvs !== null; },
  kvsInfo: function () { return st.kvs; },
  kvsRequest: function (op, key, format) {
    var id = st.nextKvsId++;
    var waiting = st.kvsWaiting;
    var p = new PromiseCtor(function (resolve, reject) {
      waiting[id] = { resolve: resolve, reject: reject, op: op, key: key, format: format };
    });
    st.kvsQueue.push({ id: id, op: op, key: key });
    return p;
  },
  recordOrigin: function (helper, argument) {
    var copy;
    try {
      copy = argument === undefined ? null : jsonParse(jsonStringify(argument));
    } catch (e) {
      copy = String(argument);
    }
    st.origin.push({ helper: helper, argument: copy });
  },
  logCustomData: function (value) { st.customLog = String(value); },
  edgeLocation: function () { return st.edge; },
  eventType: function () { return st.eventType; },
  Buffer: Buffer,
};

// crypto is native code in CloudFront, but JavaScript here (runtime_shims/crypto.js), where a
// SHA-256 block costs tens of microseconds. Calls are metered so that the host can replace their
// measured time by a modelled native cost (docs/runtime.md, "Compute budget").
function inputBytes(value) {
  if (typeof value === 'string') return value.length;
  return value !== null && typeof value === 'object' && typeof value.byteLength === 'number'
    ? value.byteLength : 0;
}
// dataArg: index of the argument whose size is charged, -1 for none, THIS for the receiver.
var THIS = -2;
var meterDepth = 0;
function metered(fn, dataArg) {
  return function () {
    // A metered call made from inside another is part of the outer one's native work.
    if (meterDepth > 0) return fn.apply(this, arguments);
    meterDepth += 1;
    var t0 = perfNow();
    try {
      return fn.apply(this, arguments);
    } finally {
      meterDepth -= 1;
      if (st !== null) {
        st.nativeMs += perfNow() - t0;
        st.nativeCalls += 1;
        if (dataArg >= 0) st.nativeBytes += inputBytes(arguments[dataArg]);
        else if (dataArg === THIS) st.nativeBytes += inputBytes(this);
      }
    }
  };
}
function replaceMethod(target, name, dataArg) {
  defineProperty(target, name, { value: metered(target[name], dataArg), writable: true,
    configurable: true });
}
// Buffer and the text codecs are native in CloudFront too (njs): the common conversions are
// metered the same way, so base64/UTF-8 work is charged at the modelled native cost.
if (typeof G.Buffer === 'function') {
  replaceMethod(Buffer, 'from', 0);
  replaceMethod(Buffer.prototype, 'toString', THIS);
  replaceMethod(G.TextEncoder.prototype, 'encode', 0);
  replaceMethod(G.TextDecoder.prototype, 'decode', 0);
  G.atob = metered(G.atob, 0);
  G.btoa = metered(G.btoa, 0);
}
var cryptoProtos = [];
function meteredCrypto(crypto) {
  var hashProto = Object.getPrototypeOf(crypto.createHash('md5'));
  var hmacProto = Object.getPrototypeOf(crypto.createHmac('md5', ''));
  cryptoProtos = [hashProto, hmacProto];
  cryptoProtos.forEach(function (proto) {
    defineProperty(proto, 'update', { value: metered(proto.update, 0), writable: true,
      configurable: true });
    defineProperty(proto, 'digest', { value: metered(proto.digest, -1), writable: true,
      configurable: true });
  });
  return {
    createHash: metered(crypto.createHash, -1),
    createHmac: metered(crypto.createHmac, 1),
  };
}

var moduleFactories = {
  crypto: Object.freeze(meteredCrypto(shims.crypto.makeCrypto(runtime))),
  querystring: Object.freeze(shims.querystring),
};

function makeRequire() {
  var cf = null;
  return function require(name) {
    if (name === 'cloudfront' && !is1) {
      if (cf === null) {
        cf = shims.cloudfront.makeCloudfront(host);
        // CWT validation and generation are native in CloudFront too: metered like crypto.
        var cwt = cf.cwt;
        cwt.validateToken = metered(cwt.validateToken, 0);
        cwt.generateToken = metered(cwt.generateToken, -1);
      }
      return cf;
    }
    if (Object.prototype.hasOwnProperty.call(moduleFactories, name)) return moduleFactories[name];
    throw new Error('Cannot find module "' + name + '"');
  };
}

// ---------------------------------------------------------------------------------------------
// Invocation.
var moduleFn = null;

function describeError(e) {
  // quickjs-ng throws null when an allocation fails under the memory limit. (A function that
  // throws null itself is reported the same way; CloudFront code has no reason to.)
  if (e === null) return { name: 'MemoryError', message: 'out of memory', stack: '' };
  if (e !== null && typeof e === 'object' && typeof e.name === 'string') {
    return { name: e.name, message: String(e.message), stack: String(e.stack || '') };
  }
  var text;
  try { text = String(e); } catch (x) { text = '[unprintable value]'; }
  return { name: '', message: text, stack: '' };
}

function finish(kind, value) {
  st.outcome = { s: kind, v: value };
}

function attachRawQueryString(request) {
  if (is1 || request === null || typeof request !== 'object') return;
  var raw = st.rawQuery;
  defineProperty(request, 'rawQueryString', {
    value: function rawQueryString() { return raw === null ? undefined : raw; },
    enumerable: false, writable: true, configurable: true,
  });
}

function begin(eventJson, optsJson) {
  var opts = jsonParse(optsJson);
  st = freshState(opts);
  seedRandom(opts.seed);
  var event = jsonParse(eventJson);
  attachRawQueryString(event.request);
  try {
    var handler = moduleFn(makeRequire(), tick);
    if (typeof handler !== 'function') {
      throw new Error('handler is not defined');
    }
    var result = handler(event);
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      PromiseCtor.resolve(result).then(
        function (v) { finish('ok', v); },
        function (e) { finish('error', describeError(e)); });
    } else {
      finish('ok', result);
    }
  } catch (e) {
    finish('error', describeError(e));
  }
  return poll();
}

// Deterministic compute mode: instrumented code calls tick() at function entries and loop heads.
var ticks = 0;
var tickLimit = 0;
function tick() {
  ticks++;
  // Once over the limit every later tick throws too, so a user try/catch cannot outlive it.
  if (tickLimit > 0 && ticks > tickLimit) {
    throw new InternalErrorCtor('interrupted');
  }
}

// The outcome crosses to the host as one JSON text, built without a parse/stringify round trip.
function serialiseOutcome() {
  var o = st.outcome;
  var head = '{"logs":' + jsonStringify(st.logs) + ',"origin":' + jsonStringify(st.origin) +
    ',"custom":' + jsonStringify(st.customLog) + ',"ticks":' + ticks + ',"dirty":' + isDirty() + ',"native":[' + st.nativeMs + ',' +
    st.nativeCalls + ',' + st.nativeBytes + ']';
  if (o.s !== 'ok') return head + ',"s":"error","error":' + jsonStringify(o.v) + '}';
  var type = o.v === null ? 'null' : (Array.isArray(o.v) ? 'array' : typeof o.v);
  var text;
  try {
    text = o.v === undefined ? 'null' : jsonStringify(o.v);
  } catch (e) {
    return head + ',"s":"unserialisable","error":' + jsonStringify(describeError(e)) + '}';
  }
  if (text === undefined) text = 'null';
  return head + ',"s":"ok","type":"' + type + '","v":' + text + '}';
}

// Strings built by '+' are ropes in quickjs-ng, which the Python binding cannot convert
// ("Unknown quickjs tag: -6"); Array.prototype.join always yields a flat string.
function flat(text) {
  return [text].join('');
}

function poll() {
  if (st.outcome !== null) return flat(serialiseOutcome());
  var q = st.kvsQueue;
  st.kvsQueue = [];
  return jsonStringify({ s: 'pending', kvs: q });
}

// Settle queued KVS calls: answers is [[id, found, value-or-meta], ...].
function settle(answersJson) {
  var answers = jsonParse(answersJson);
  for (var i = 0; i < answers.length; i++) {
    var a = answers[i];
    var w = st.kvsWaiting[a[0]];
    if (!w) continue;
    delete st.kvsWaiting[a[0]];
    shims.cloudfront.settleKvs(host, w, a[1], a[2]);
  }
}

// Isolation check: anything user code leaves on shared objects makes the host rebuild the context.
// Cheap enough to run after every invocation: global identities, plus enumerable own keys of the
// shared built-ins (built-in methods are non-enumerable, so plain assignments show up here). Code
// that redefines built-ins in other ways (defineProperty, prototype edits) is found by the host's
// source scan and gets a fresh context for every invocation instead.
var watched = [Object, Object.prototype, Array, Array.prototype, String, String.prototype,
  Number, Number.prototype, Boolean.prototype, Function.prototype, JSON, Math, Promise,
  Promise.prototype, RegExp, RegExp.prototype, Error, Error.prototype, FrozenDate,
  RealDate.prototype, Uint8Array.prototype, Object.getPrototypeOf(Uint8Array.prototype),
  Buffer, Buffer.prototype, consoleObject].concat(cryptoProtos);
var baselineKeys = null;
var baselineNames = null;
var baselineGlobals = null;
function snapshot() {
  baselineKeys = watched.map(function (o) { return objectKeys(o).length; });
  baselineNames = ownNames(G);
  baselineGlobals = baselineNames.map(function (k) { return G[k]; });
}
function isDirty() {
  var names = ownNames(G);
  if (names.length !== baselineNames.length) return true;
  for (var i = 0; i < names.length; i++) {
    if (!sameValue(G[baselineNames[i]], baselineGlobals[i])) return true;
  }
  for (var j = 0; j < watched.length; j++) {
    if (objectKeys(watched[j]).length !== baselineKeys[j] || !isExtensible(watched[j])) return true;
  }
  return false;
}

function install(fn) { moduleFn = fn; }
function setTickLimit(n) { ticks = 0; tickLimit = n; }

delete G.__edgesim_shims;
return {
  install: install,
  begin: begin,
  poll: poll,
  settle: settle,
  snapshot: snapshot,
  isDirty: isDirty,
  setTickLimit: setTickLimit,
};
