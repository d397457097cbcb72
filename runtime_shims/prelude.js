// Prelude: turns a QuickJS context into a CloudFront Functions runtime and returns the internals
// the host (edgesim/runtime/engine.py) drives. Evaluated once per context, after the shims, as the
// body of `function (shims, runtime) { ... }`. Users never see anything defined here except the
// globals it installs on purpose.

var G = globalThis;
var is1 = runtime === 'cloudfront-js-1.0';

// Built-ins the internals keep using after user code may have shadowed, replaced or removed them.
// Everything the prelude runs after user code has started (logging, serialising the outcome, the
// isolation check) goes through these captures only.
var I = shims.intrinsics;
var uncurry = I.uncurry;
var RealDate = Date;
var ErrorCtor = Error;
var StringCtor = String;
var jsonParse = JSON.parse;
var jsonStringify = JSON.stringify;
var PromiseCtor = Promise;
var promiseResolve = Promise.resolve.bind(Promise);
var promiseThen = uncurry(Promise.prototype.then);
var ObjectProto = Object.prototype;
var objectKeys = Object.keys;
var ownNames = Object.getOwnPropertyNames;
var ownSymbols = Object.getOwnPropertySymbols;
var getOwnDescriptor = Object.getOwnPropertyDescriptor;
var defineProperty = Object.defineProperty;
var defineProperties = Object.defineProperties;
var getPrototypeOf = Object.getPrototypeOf;
var setPrototypeOf = Object.setPrototypeOf;
var preventExtensions = Object.preventExtensions;
var objectFreeze = Object.freeze;
var objectSeal = Object.seal;
var isFrozen = Object.isFrozen;
var objectCreate = Object.create;
var objectAssign = Object.assign;
var isArray = Array.isArray;
// Object.hasOwn is removed from user view below; a direct native call is the cheapest lookup.
var hasOwn = Object.hasOwn;
var arrayJoin = uncurry(Array.prototype.join);
var arrayPush = uncurry(Array.prototype.push);
var applyFn = I.applyFn;
var strSlice = I.strSlice;
var charCodeAt = I.charCodeAt;
var regexExec = I.regexExec;
var mathImul = Math.imul;
// Set and Iterator are removed from user view below; the isolation check keeps using Set.
var SetCtor = Set;
var setHas = uncurry(Set.prototype.has);
var setAdd = uncurry(Set.prototype.add);
var IteratorCtor = G.Iterator;
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
// Globals CloudFront has. Like every built-in global they are not enumerable.
function setGlobal(name, value) {
  defineProperty(G, name, { value: value, writable: true, enumerable: false, configurable: true });
}
var Buffer = shims.buffer.Buffer;
setGlobal('Buffer', Buffer);
setGlobal('atob', shims.text.atob);
setGlobal('btoa', shims.text.btoa);
setGlobal('TextEncoder', shims.text.TextEncoder);
setGlobal('TextDecoder', shims.text.TextDecoder);
// AWS's docs: eval() and the Function constructor throw. The message follows njs. Every function
// kind's constructor is reachable from its instances (`(function* () {}).constructor`), so all
// four are blocked.
function notImplemented() {
  throw new InternalErrorCtor('Not implemented');
}
setGlobal('eval', notImplemented);
var FunctionProto = getPrototypeOf(function () {});
[FunctionProto, getPrototypeOf(async function () {}), getPrototypeOf(function* () {}),
  getPrototypeOf(async function* () {})].forEach(function (proto) {
  defineProperty(proto, 'constructor', { value: notImplemented, writable: false });
});
setGlobal('Function', notImplemented);
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
// Per-invocation state. Every field exists from the start, so that recording the outcome assigns
// existing properties and allocates nothing (it must work when memory has run out).
var st = null;
function freshState(now, eventType, edgeJson, kvsId, rawQuery) {
  return {
    now: now,
    logs: [],
    logBytes: 0,
    logFull: false,
    origin: [],
    customLog: null,
    nativeMs: 0,
    nativeCalls: 0,
    nativeBytes: 0,
    plumbMs: 0,
    plumbCalls: 0,
    kvsQueue: [],
    kvsWaiting: {},
    nextKvsId: 1,
    done: false,
    failed: false,
    promise: null,
    rechecked: false,
    value: undefined,
    valueHead: null,
    valueText: null,
    eventType: eventType,
    // cf.edgeLocation: JSON text, parsed when the function first reads it.
    edge: null,
    edgeJson: edgeJson,
    kvs: kvsId,
    rawQuery: rawQuery,
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
[['now', function now() { return st ? st.now : RealDate.now(); }], ['parse', RealDate.parse],
  ['UTC', RealDate.UTC]].forEach(function (entry) {
  defineProperty(FrozenDate, entry[0], { value: entry[1], writable: true, configurable: true });
});
defineProperty(RealDate.prototype, 'constructor', { value: FrozenDate, writable: true,
  configurable: true });
setGlobal('Date', FrozenDate);

// Math.random: seeded per invocation (CloudFront seeds it with the invocation timestamp).
// xoshiro128** seeded through a splitmix-style mixer: fast, 32-bit, reproducible.
var rs0 = 1, rs1 = 2, rs2 = 3, rs3 = 4;
function seedRandom(seed) {
  var s = (seed >>> 0) ^ 0x9e3779b9;
  function next() {
    s = (s + 0x6d2b79f5) | 0;
    var t = mathImul(s ^ (s >>> 15), 1 | s);
    t = (t + mathImul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  }
  rs0 = next(); rs1 = next(); rs2 = next(); rs3 = next();
}
function random() {
  // xoshiro128** step.
  var m = mathImul(rs1, 5);
  var r = mathImul((m << 7) | (m >>> 25), 9);
  var t = rs1 << 9;
  rs2 ^= rs0; rs3 ^= rs1; rs1 ^= rs2; rs0 ^= rs3; rs2 ^= t;
  rs3 = (rs3 << 11) | (rs3 >>> 21);
  return (r >>> 0) / 4294967296;
}
Math.random = random;

// console: only log() (AWS docs). Lines are buffered per invocation and capped at 10 KB of UTF-8
// (shims.limits.logBytes, from edgesim/limits.py).
// In CloudFront console.log is native code: the capture below (byte counting, truncation) is
// metered like crypto and charged the modelled native cost (see "Compute budget" in
// docs/runtime.md); turning the arguments into text is charged as measured.
var LOG_CAP = shims.limits.logBytes;
var NON_ASCII = /[^\x00-\x7f]/;
function log() {
  var n = arguments.length;
  var line;
  if (n === 1) {
    line = logText(arguments[0]);
  } else {
    var parts = [];
    for (var i = 0; i < n; i++) parts[i] = logText(arguments[i]);
    line = arrayJoin(parts, ' ');
  }
  capture(line);
}
function logText(v) {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && !(v instanceof ErrorCtor)) {
    try {
      var s = jsonStringify(v);
      if (s !== undefined) return s;
    } catch (e) { /* fall through to String() */ }
  }
  return StringCtor(v);
}
// Linear in the part of the line that can still fit: every UTF-16 unit is at least one byte, so
// only the first `room` units are ever looked at. A lone surrogate counts as the 3 bytes of the
// U+FFFD that replaces it; a line is never cut inside a surrogate pair.
function appendLog(line) {
  if (st === null || st.logFull) return;
  var room = LOG_CAP - st.logBytes;
  var fits = line.length <= room;
  var bytes = fits && regexExec(NON_ASCII, line) === null ? line.length : -1;
  if (bytes < 0) {
    var end = utf8Prefix(line, room);
    if (end === line.length) {
      bytes = utf8Bytes;
    } else {
      st.logFull = true;
      st.logBytes = LOG_CAP;
      if (end > 0) st.logs[st.logs.length] = strSlice(line, 0, end);
      return;
    }
  }
  st.logBytes += bytes;
  st.logs[st.logs.length] = line;
}
// The number of UTF-16 units of `s` whose UTF-8 form fits in maxBytes; their byte count is left
// in utf8Bytes.
var utf8Bytes = 0;
function utf8Prefix(s, maxBytes) {
  var n = 0, i = 0, len = s.length;
  while (i < len) {
    var c = charCodeAt(s, i);
    var size = 1, units = 1;
    if (c >= 0x80) {
      size = c < 0x800 ? 2 : 3;
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < len) {
        var d = charCodeAt(s, i + 1);
        if (d >= 0xdc00 && d < 0xe000) { size = 4; units = 2; }
      }
    }
    if (n + size > maxBytes) break;
    n += size;
    i += units;
  }
  utf8Bytes = n;
  return i;
}
var capture = metered(appendLog, 0);
var consoleObject = { log: log };
setGlobal('console', consoleObject);

var CUSTOM_LOG_CAP = shims.limits.customLogBytes;

// ---------------------------------------------------------------------------------------------
// Host services for the cloudfront module: KVS reads are queued here and settled by the host
// between pending-job runs (JS cannot call into Python while the time limit is armed).
var host = {
  kvsAssociated: function () { return st !== null && st.kvs !== null; },
  kvsInfo: function () { return { id: st.kvs }; },
  kvsRequest: function (op, key, format) {
    var id = st.nextKvsId++;
    var waiting = st.kvsWaiting;
    var p = new PromiseCtor(function (resolve, reject) {
      waiting[id] = { resolve: resolve, reject: reject, op: op, key: key, format: format };
    });
    var queue = st.kvsQueue;
    queue[queue.length] = '{"id":' + id + ',"op":"' + op + '","key":' +
      (key === null ? 'null' : jsonStringify(key)) + '}';
    return p;
  },
  // The argument is recorded as JSON text at the call, as CloudFront takes it then.
  recordOrigin: function (helper, argument) {
    var text;
    try {
      text = argument === undefined ? 'null' : jsonStringify(argument);
    } catch (e) {
      text = undefined;
    }
    if (typeof text !== 'string') {
      try {
        text = jsonStringify(StringCtor(argument));
      } catch (e) {
        text = '"[unprintable value]"';
      }
    }
    st.origin[st.origin.length] = '{"helper":' + jsonStringify(helper) + ',"argument":' + text +
      '}';
  },
  // cf.logCustomData: the host URL-encodes the text and truncates it to customLogBytes
  // (edgesim/runtime/logdata.py). Every UTF-16 unit encodes to at least one byte, so units past
  // that many can never be kept: they are dropped here, and a long value never crosses to the host.
  logCustomData: function (value) {
    st.customLog = strSlice(StringCtor(value), 0, CUSTOM_LOG_CAP);
  },
  edgeLocation: function () {
    if (st.edge === null) st.edge = jsonParse(st.edgeJson);
    return st.edge;
  },
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
    if (meterDepth > 0) return applyFn(fn, this, arguments);
    meterDepth += 1;
    var t0 = perfNow();
    try {
      return applyFn(fn, this, arguments);
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
  setGlobal('atob', metered(G.atob, 0));
  setGlobal('btoa', metered(G.btoa, 0));
}

// Modules are shared by every invocation and users do not change them, so they are frozen,
// functions, prototypes and all: nothing can be stored on them.
function deepFreeze(value) {
  var stack = [value];
  while (stack.length > 0) {
    var o = stack.pop();
    if (!isObjectLike(o) || isFrozen(o)) continue;
    objectFreeze(o);
    var keys = ownKeysOf(o);
    for (var i = 0; i < keys.length; i++) {
      var d = getOwnDescriptor(o, keys[i]);
      if (hasOwn(d, 'value')) arrayPush(stack, d.value);
    }
    if (typeof o === 'function' || getPrototypeOf(o) !== ObjectProto) {
      // A function's own prototype chain is Function.prototype: shared and watched, not frozen.
      var proto = getPrototypeOf(o);
      if (proto !== null && proto !== FunctionProto && proto !== ObjectProto) arrayPush(stack, proto);
    }
  }
  return value;
}
function meteredCrypto(crypto) {
  var hashProto = getPrototypeOf(crypto.createHash('md5'));
  var hmacProto = getPrototypeOf(crypto.createHmac('md5', ''));
  [hashProto, hmacProto].forEach(function (proto) {
    defineProperty(proto, 'update', { value: metered(proto.update, 0), writable: true,
      configurable: true });
    defineProperty(proto, 'digest', { value: metered(proto.digest, -1), writable: true,
      configurable: true });
    deepFreeze(proto);
  });
  return {
    createHash: metered(crypto.createHash, -1),
    createHmac: metered(crypto.createHmac, 1),
  };
}

var moduleFactories = objectCreate(null);
moduleFactories.crypto = deepFreeze(meteredCrypto(shims.crypto.makeCrypto(runtime)));
moduleFactories.querystring = deepFreeze(shims.querystring);

// The cloudfront module: a new object per invocation (whatever user code stores on it stays in
// its invocation), holding functions made once per context and frozen like the other modules'.
var makeCloudfront = null;
if (!is1) {
  var cwtShim = shims.cwt.makeCwt();
  makeCloudfront = shims.cloudfront.cloudfrontModule(host, {
    // CWT validation and generation are native in CloudFront too: metered like crypto.
    validateToken: metered(cwtShim.validateToken, 0),
    generateToken: metered(cwtShim.generateToken, -1),
  });
  for (var sharedIndex = 0; sharedIndex < makeCloudfront.shared.length; sharedIndex++) {
    deepFreeze(makeCloudfront.shared[sharedIndex]);
  }
}

function makeRequire() {
  var cf = null;
  return function require(name) {
    if (name === 'cloudfront' && !is1) {
      if (cf === null) cf = makeCloudfront();
      return cf;
    }
    if (typeof name === 'string' && hasOwn(moduleFactories, name)) return moduleFactories[name];
    throw new ErrorCtor('Cannot find module "' + name + '"');
  };
}

// ---------------------------------------------------------------------------------------------
// Invocation. The host calls begin(), then runs pending jobs, settles KVS reads and polls until
// the outcome is known (see edgesim/runtime/engine.py).
var moduleFn = null;
var OUT_OF_MEMORY = { name: 'MemoryError', message: 'out of memory', stack: '' };

// quickjs-ng throws null when an allocation fails under the memory limit and it cannot even
// build the error object, and InternalError "out of memory" when it can. (A function that
// throws null itself is reported as out of memory too: once the stack has unwound, the engine
// offers no way to tell the two apart.)
function describeError(e) {
  if (e === null) return OUT_OF_MEMORY;
  try {
    if (typeof e === 'object' || typeof e === 'function') {
      var name = e.name;
      if (typeof name === 'string') {
        var message = readText(e, 'message');
        if (name === 'InternalError' && message === 'out of memory') return OUT_OF_MEMORY;
        return { name: name, message: message, stack: readText(e, 'stack') };
      }
    }
  } catch (x) {
    if (x === null) return OUT_OF_MEMORY;
  }
  var text;
  try {
    text = StringCtor(e);
  } catch (x) {
    if (x === null) return OUT_OF_MEMORY;
    text = '[unprintable value]';
  }
  return { name: '', message: text, stack: '' };
}
function readText(e, key) {
  try {
    var v = e[key];
    return key === 'stack' && !v ? '' : StringCtor(v);
  } catch (x) {
    if (x === null) throw x;
    return '[unreadable ' + key + ']';
  }
}

// Recording the outcome allocates nothing, so it works when memory has run out.
function succeed(value) {
  if (st.done) return;
  st.done = true;
  st.value = value;
}
function fail(error) {
  if (st.done) return;
  var described;
  try {
    described = describeError(error);
  } catch (x) {
    described = OUT_OF_MEMORY;
  }
  st.done = true;
  st.failed = true;
  st.value = described;
}

function attachRawQueryString(request) {
  if (is1 || request === null || typeof request !== 'object') return;
  var raw = st.rawQuery;
  defineProperty(request, 'rawQueryString', {
    value: function rawQueryString() { return raw === null ? undefined : raw; },
    enumerable: false, writable: true, configurable: true,
  });
}

// Time the prelude spends as emulator plumbing (parsing the event, settling KVS reads, serialising
// the outcome, the isolation check) is measured with the engine's clock and reported, so that the
// host does not charge it to the function.
function plumbed(t0) {
  st.plumbMs += perfNow() - t0;
  st.plumbCalls += 1;
}

// The invocation's options come as separate primitive arguments: cheaper than a JSON text.
// edgeJson: cf.edgeLocation as JSON; kvsId: the associated store's id, or null for none;
// rawQuery: what request.rawQueryString() returns (null: undefined).
function begin(eventJson, now, seed, eventType, edgeJson, kvsId, rawQuery, limit) {
  var t0 = perfNow();
  st = freshState(now, eventType, edgeJson, kvsId, rawQuery);
  touched = false;
  wideCheck = false;
  ticks = 0;
  tickLimit = limit;
  seedRandom(seed);
  var event = jsonParse(eventJson);
  attachRawQueryString(event.request);
  var require = makeRequire();
  plumbed(t0);
  try {
    var handler = moduleFn(require, tick, guardWrite);
    if (typeof handler !== 'function') {
      throw new ErrorCtor('handler is not defined');
    }
    var result = handler(event);
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      st.promise = promiseResolve(result);
      watchPromise(st);
    } else {
      succeed(result);
    }
  } catch (e) {
    fail(e);
  }
  return poll(true);
}

// Bound to one invocation's state: a settlement can never land in a later invocation.
function watchPromise(mine) {
  promiseThen(mine.promise,
    function (v) { if (st === mine) succeed(v); },
    function (e) { if (st === mine) fail(e); });
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

// The outcome crosses to the host as one text: a JSON head, a line break, and the JSON of the
// returned value, which the host decodes separately (so that a value it cannot decode still
// leaves the logs). The prelude's own parts are assembled from quoted strings, so no toJSON or
// other change user code made to the built-ins can alter their shape. Strings built by '+' are
// ropes in quickjs-ng, which the Python binding cannot convert ("Unknown quickjs tag: -6"):
// joining flattens them.
function quoteAll(list) {
  var parts = [];
  for (var i = 0; i < list.length; i++) parts[i] = jsonStringify(list[i]);
  return '[' + arrayJoin(parts, ',') + ']';
}
function serialiseValue() {
  if (st.valueHead !== null) return;
  var v = st.value;
  if (st.failed) {
    var e = st.value;
    st.valueHead = ',"s":"error","error":{"name":' + jsonStringify(e.name) + ',"message":' +
      jsonStringify(e.message) + ',"stack":' + jsonStringify(e.stack) + '}';
    st.valueText = 'null';
    return;
  }
  var type = v === null ? 'null' : (isArray(v) ? 'array' : typeof v);
  var text;
  try {
    text = v === undefined ? 'null' : jsonStringify(v);
  } catch (x) {
    var d = describeError(x);
    st.valueHead = ',"s":"unserialisable","error":{"name":' + jsonStringify(d.name) +
      ',"message":' + jsonStringify(d.message) + ',"stack":""}';
    st.valueText = 'null';
    return;
  }
  st.valueHead = ',"s":"ok","type":"' + type + '"';
  st.valueText = typeof text === 'string' ? text : 'null';
}

// first: the poll at the end of begin(), before the host has run any pending job (a promise
// still unsettled then is only waiting for its jobs).
function poll(first) {
  var t0 = perfNow();
  var head;
  var tail = '';
  st.plumbCalls += 1;
  if (st.done) {
    // The value is serialised once: jobs the function left behind may still run (and log)
    // after it returned, but cannot change what it returned.
    serialiseValue();
    head = '{"logs":' + quoteAll(st.logs) + ',"origin":[' + arrayJoin(st.origin, ',') +
      '],"custom":' + (st.customLog === null ? 'null' : jsonStringify(st.customLog)) +
      ',"ticks":' + ticks + ',"native":[' + st.nativeMs + ',' + st.nativeCalls + ',' +
      st.nativeBytes + ']' + st.valueHead + ',"dirty":' + leftSomethingBehind();
    tail = '\n' + st.valueText;
  } else {
    var q = st.kvsQueue;
    st.kvsQueue = [];
    head = '{"s":"pending","kvs":[' + arrayJoin(q, ',') + ']';
    if (q.length === 0 && st.promise !== null && !st.rechecked && !first) {
      // Nothing left to wait for, yet no outcome: when the handler's promise settled while
      // memory was exhausted, the engine could not queue the reaction. Reacting once more now
      // tells a lost settlement from a promise that never settles.
      st.rechecked = true;
      watchPromise(st);
      head += ',"recheck":true';
    }
    // A pending reply carries no timing: the host reads it from the final one, which counts
    // this poll too.
    st.plumbMs += perfNow() - t0;
    return arrayJoin([head, '}'], '');
  }
  // JSON.stringify escapes a lone surrogate as \udxxx, which strict JSON decoders (and UTF-8)
  // reject: the host turns such escapes into U+FFFD when it decodes this (engine.py, _loads),
  // rather than every text being searched for them here.
  return arrayJoin([head, ',"plumb":[', st.plumbMs + (perfNow() - t0), ',', st.plumbCalls,
    ']}', tail], '');
}

// Settle queued KVS calls: answers is [[id, status, value-or-meta], ...].
function settle(answersJson) {
  var t0 = perfNow();
  try {
    var answers = jsonParse(answersJson);
    for (var i = 0; i < answers.length; i++) {
      var a = answers[i];
      answerKvs(a[0], a[1], a[2]);
    }
  } finally {
    plumbed(t0);
  }
}
// The common case, one answer whose payload is text or null (a get, an exists, an error),
// passed as plain arguments: no JSON text to make on the host and parse here.
function settleOne(id, status, payload) {
  var t0 = perfNow();
  try {
    answerKvs(id, status, payload);
  } finally {
    plumbed(t0);
  }
}
function answerKvs(id, status, payload) {
  var w = st.kvsWaiting[id];
  if (!w) return;
  delete st.kvsWaiting[id];
  shims.cloudfront.settleKvs(host, w, status, payload);
}

// ---------------------------------------------------------------------------------------------
// Isolation between invocations. Each context serves many invocations, so whatever user code
// leaves on shared objects (built-ins, the shims' globals) must not reach the next one. After
// the prelude has set up everything, snapshot() walks every object reachable from the global
// object (and the intrinsics only reachable through syntax, such as generator prototypes) and:
// - freezes leaf functions (functions with no own properties but length, name and a plain
//   prototype: Math.max, Buffer.prototype.write) and module objects (crypto, querystring):
//   nothing can be stored on them;
// - makes the non-writable data properties of the other objects (namespaces, constructors,
//   prototypes: the ones polyfills extend) non-configurable: `name`, `length`,
//   Symbol.toStringTag and the like can no longer be deleted or redefined;
// - records their writable data properties, their accessors, and the values behind the
//   accessors that keep engine state (Error.stackTraceLimit, Error.prepareStackTrace).
// After every invocation leftSomethingBehind() writes the recorded values back (a replaced
// Math.random or console.log is undone, cheaply, in native code) and then looks for enumerable
// own properties on those objects: assignment creates enumerable properties, so a new global, a
// new method or a deleted-and-restored one shows up there; a deleted accessor is missed there,
// so accessors are looked up one by one. Everything else that can change a
// shared object (defineProperty and friends, prototype and extensibility changes) goes through
// the wrappers below (Object.assign among them, as it writes any name it is given), which note
// when their target is a shared object. When anything was left behind, the host builds a new
// context before the next invocation.
var touched = false;
var watchedSet = null;
// Two sets of tables: every writable property and accessor of the watched objects ("all"), and
// only those whose names the source writes in plain sight ("named"; the same arrays when the
// names cannot be known). The named ones are checked after each invocation; all of them after
// an invocation in which a computed-key write or delete (`o[k] = v`) reached a watched object.
var wideCheck = false;
var restoreTargets = [];
var restoreValues = [];
var accessorObjects = [];
var accessorKeys = [];
var namedRestoreTargets = restoreTargets;
var namedRestoreValues = restoreValues;
var namedAccessorObjects = accessorObjects;
var namedAccessorKeys = accessorKeys;
var scanArgs = [null];
var countedObjects = [];
var countedKeys = [];
var countedSymbols = [];
var stateObjects = [];
var stateGetters = [];
var stateSetters = [];
var stateValues = [];

function isObjectLike(v) {
  return (typeof v === 'object' && v !== null) || typeof v === 'function';
}
function ownKeysOf(o) {
  var keys = ownNames(o);
  var symbols = ownSymbols(o);
  for (var i = 0; i < symbols.length; i++) keys[keys.length] = symbols[i];
  return keys;
}
function touch(target) {
  if (!touched && watchedSet !== null && isObjectLike(target) && setHas(watchedSet, target)) {
    touched = true;
  }
}
function wrapTarget(owner, name, fn, argIndex) {
  var wrapper = argIndex < 0
    ? function () { touch(this); return applyFn(fn, this, arguments); }
    : function () { touch(arguments[argIndex]); return applyFn(fn, this, arguments); };
  defineProperty(wrapper, 'name', { value: name });
  defineProperty(wrapper, 'length', { value: fn.length });
  defineProperty(owner, name, { value: wrapper, writable: true, configurable: true });
}
wrapTarget(Object, 'assign', objectAssign, 0);
wrapTarget(Object, 'defineProperty', defineProperty, 0);
wrapTarget(Object, 'defineProperties', defineProperties, 0);
wrapTarget(Object, 'setPrototypeOf', setPrototypeOf, 0);
wrapTarget(Object, 'preventExtensions', preventExtensions, 0);
wrapTarget(Object, 'freeze', objectFreeze, 0);
wrapTarget(Object, 'seal', objectSeal, 0);
wrapTarget(ObjectProto, '__defineGetter__', ObjectProto.__defineGetter__, -1);
wrapTarget(ObjectProto, '__defineSetter__', ObjectProto.__defineSetter__, -1);
if (typeof ErrorCtor.captureStackTrace === 'function') {
  wrapTarget(ErrorCtor, 'captureStackTrace', ErrorCtor.captureStackTrace, 0);
}
(function () {
  var proto = getOwnDescriptor(ObjectProto, '__proto__');
  var setProto = proto.set;
  defineProperty(ObjectProto, '__proto__', {
    get: proto.get,
    set: function (value) { touch(this); return applyFn(setProto, this, [value]); },
    enumerable: false,
    configurable: true,
  });
})();

// Intrinsics that only syntax or built-in methods reach (not a property path from the global).
function hiddenRoots() {
  var makers = [
    function () { return getPrototypeOf(function* () {}); },
    function () { return getPrototypeOf(async function () {}); },
    function () { return getPrototypeOf(async function* () {}); },
    function () { return getPrototypeOf([][Symbol.iterator]()); },
    function () { return getPrototypeOf(''[Symbol.iterator]()); },
    function () { return getPrototypeOf(/x/[Symbol.matchAll]('')); },
    function () { return getPrototypeOf([].values().map(function (x) { return x; })); },
    function () { return getPrototypeOf(IteratorCtor.from({ next: function () {} })); },
    function () { return getPrototypeOf(IteratorCtor.concat()); },
    function () { return getPrototypeOf(IteratorCtor.zip([])); },
    function () { return IteratorCtor; },
  ];
  var roots = [];
  for (var i = 0; i < makers.length; i++) {
    try {
      var root = makers[i]();
      if (isObjectLike(root)) roots[roots.length] = root;
    } catch (e) { /* not in this engine version */ }
  }
  return roots;
}

// Every object reachable from the roots through properties (values, getters, setters) and
// prototypes, with its own keys and their descriptors (looked at again below).
// (Runs once, before any user code: plain method calls are safe here.)
function reachable(roots, keysOf, descriptorsOf) {
  var seen = new SetCtor();
  var list = [];
  var stack = roots;
  while (stack.length > 0) {
    var o = stack.pop();
    if ((typeof o !== 'object' || o === null) && typeof o !== 'function') continue;
    if (seen.has(o)) continue;
    seen.add(o);
    var keys = ownNames(o);
    var symbols = ownSymbols(o);
    for (var s = 0; s < symbols.length; s++) keys.push(symbols[s]);
    var descriptors = [];
    list.push(o);
    keysOf.push(keys);
    descriptorsOf.push(descriptors);
    stack.push(getPrototypeOf(o));
    if (typeof o === 'function' && onlyNameLengthPrototype(keys)) {
      // A method (the common case): its name and length are primitives.
      if (keys.indexOf('prototype') >= 0) stack.push(getOwnDescriptor(o, 'prototype').value);
      continue;
    }
    for (var i = 0; i < keys.length; i++) {
      var d = getOwnDescriptor(o, keys[i]);
      descriptors.push(d);
      if ('value' in d) stack.push(d.value);
      else stack.push(d.get, d.set);
    }
  }
  return list;
}

// A function with nothing of its own but length, name and a prototype object that only points
// back at it: a method, not a namespace or a class.
function onlyNameLengthPrototype(keys) {
  for (var i = 0; i < keys.length; i++) {
    if (keys[i] !== 'length' && keys[i] !== 'name' && keys[i] !== 'prototype') return false;
  }
  return true;
}
function isLeafFunction(f, keys) {
  if (typeof f !== 'function' || !onlyNameLengthPrototype(keys)) return false;
  if (!hasOwn(f, 'prototype')) return true;
  var p = getOwnDescriptor(f, 'prototype').value;
  if (!isObjectLike(p) || typeof p === 'function' || getPrototypeOf(p) !== ObjectProto) {
    return false;
  }
  var own = ownKeysOf(p);
  return own.length === 0 || (own.length === 1 && own[0] === 'constructor' &&
    getOwnDescriptor(p, 'constructor').value === f);
}

// Shared objects no CloudFront function extends or replaces parts of: frozen like leaf functions,
// which keeps the per-invocation check short (each object it looks at has a fixed cost).
function rarelyTouched() {
  var list = [];
  [Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array,
    Float64Array].forEach(function (ctor) {
    list[list.length] = ctor;
    list[list.length] = ctor.prototype;
  });
  var hidden = hiddenRoots();
  for (var i = 0; i < hidden.length; i++) {
    // Iterator and generator prototypes (and Iterator with its helpers): reached through
    // syntax only, except for Iterator, which CloudFront does not have.
    for (var o = hidden[i]; o !== null && o !== ObjectProto && o !== FunctionProto;
      o = getPrototypeOf(o)) {
      list[list.length] = o;
      if (typeof o === 'function' && isObjectLike(o.prototype)) list[list.length] = o.prototype;
      if (typeof o !== 'function' && hasOwn(o, 'prototype') && isObjectLike(o.prototype)) {
        list[list.length] = o.prototype;
      }
    }
  }
  return list;
}

// written: the property names the function's source writes or deletes in plain sight (null: it
// cannot be known; see edgesim/runtime/writes.py). Outside the wrappers, a property of a shared
// object changes only through such a write or through a computed-key one, which the loader routes
// through guardWrite() below; so after an invocation without computed-key writes to shared objects
// only the named properties are put back. Built-ins also write `length` and `lastIndex` on
// whatever object they are given.
function snapshot(writtenJson) {
  var written = jsonParse(writtenJson);
  var only = null;
  if (written !== null) {
    only = new SetCtor(written);
    setAdd(only, 'length');
    setAdd(only, 'lastIndex');
    namedRestoreTargets = [];
    namedRestoreValues = [];
    namedAccessorObjects = [];
    namedAccessorKeys = [];
  }
  var frozenAnyway = rarelyTouched();
  var i, j;
  for (i = 0; i < frozenAnyway.length; i++) objectFreeze(frozenAnyway[i]);
  var roots = hiddenRoots();
  roots[roots.length] = G;
  roots[roots.length] = moduleFactories.crypto;
  roots[roots.length] = moduleFactories.querystring;
  var keysOf = [];
  var descriptorsOf = [];
  var list = reachable(roots, keysOf, descriptorsOf);
  for (i = 0; i < list.length; i++) {
    var fn = list[i];
    if (!isFrozen(fn) && isLeafFunction(fn, keysOf[i])) {
      if (hasOwn(fn, 'prototype') && isObjectLike(fn.prototype)) objectFreeze(fn.prototype);
      objectFreeze(fn);
    }
  }
  watchedSet = new SetCtor();
  for (i = 0; i < list.length; i++) {
    var o = list[i];
    if (isFrozen(o)) continue;
    setAdd(watchedSet, o);
    var keys = keysOf[i];
    var values = objectCreate(null);
    var namedValues = objectCreate(null);
    var writable = 0;
    var namedWritable = 0;
    for (j = 0; j < keys.length; j++) {
      var d = descriptorsOf[i][j] || getOwnDescriptor(o, keys[j]);
      var named = only !== null && typeof keys[j] === 'string' && setHas(only, keys[j]);
      if (hasOwn(d, 'value')) {
        if (d.writable) {
          values[keys[j]] = d.value;
          writable++;
          if (named) {
            namedValues[keys[j]] = d.value;
            namedWritable++;
          }
        } else if (d.configurable) {
          defineProperty(o, keys[j], { configurable: false });
        }
      } else if (d.configurable) {
        // Accessors stay configurable (user code may replace a getter, as polyfills do; that
        // goes through defineProperty and is noticed); a deleted one is looked for each time.
        accessorObjects[accessorObjects.length] = o;
        accessorKeys[accessorKeys.length] = keys[j];
        if (named) {
          namedAccessorObjects[namedAccessorObjects.length] = o;
          namedAccessorKeys[namedAccessorKeys.length] = keys[j];
        }
        if (d.get !== undefined && d.set !== undefined && d.get !== d.set && o !== ObjectProto) {
          // A setter that may keep engine state (Error.stackTraceLimit, Error.prepareStackTrace):
          // its value is put back after each invocation. (Getters that throw here, such as
          // Function.prototype.caller's, keep no state.)
          try {
            var current = applyFn(d.get, o, []);
            stateObjects[stateObjects.length] = o;
            stateGetters[stateGetters.length] = d.get;
            stateSetters[stateSetters.length] = d.set;
            stateValues[stateValues.length] = current;
          } catch (e) { /* not a state accessor */ }
        }
      }
    }
    if (writable > 0) {
      restoreTargets[restoreTargets.length] = o;
      restoreValues[restoreValues.length] = values;
    }
    if (namedWritable > 0) {
      namedRestoreTargets[namedRestoreTargets.length] = o;
      namedRestoreValues[namedRestoreValues.length] = namedValues;
    }
    var enumerable = objectKeys(o).length;
    if (enumerable === 0) {
      scanArgs[scanArgs.length] = o;
    } else {
      countedObjects[countedObjects.length] = o;
      countedKeys[countedKeys.length] = enumerable;
      countedSymbols[countedSymbols.length] = ownSymbols(o).length;
    }
  }
}

// True when the context must not serve another invocation. Runs after every invocation.
function leftSomethingBehind() {
  if (touched) return true;
  var targets = wideCheck ? restoreTargets : namedRestoreTargets;
  var values = wideCheck ? restoreValues : namedRestoreValues;
  var accessors = wideCheck ? accessorObjects : namedAccessorObjects;
  var accessorNames = wideCheck ? accessorKeys : namedAccessorKeys;
  try {
    for (var i = 0; i < targets.length; i++) objectAssign(targets[i], values[i]);
    scanArgs[0] = objectCreate(null);
    var found = applyFn(objectAssign, null, scanArgs);
    if (ownNames(found).length > 0 || ownSymbols(found).length > 0) return true;
    for (var j = 0; j < countedObjects.length; j++) {
      var o = countedObjects[j];
      if (objectKeys(o).length !== countedKeys[j] || ownSymbols(o).length !== countedSymbols[j]) {
        return true;
      }
    }
    for (var k = 0; k < accessors.length; k++) {
      if (!hasOwn(accessors[k], accessorNames[k])) return true;
    }
    for (var m = 0; m < stateObjects.length; m++) {
      if (applyFn(stateGetters[m], stateObjects[m], []) !== stateValues[m]) {
        applyFn(stateSetters[m], stateObjects[m], [stateValues[m]]);
      }
    }
  } catch (e) {
    return true;
  }
  return touched;
}

// The loader wraps the object of every computed-key write or delete in the user's code in a call
// to this (`__edgesim_w(o)[k] = v`; see edgesim/runtime/writes.py): when it is a watched object,
// this invocation ends with the wide check. It returns its argument, so nothing else changes.
function guardWrite(o) {
  if (!wideCheck && watchedSet !== null && setHas(watchedSet, o)) wideCheck = true;
  return o;
}

function install(fn) { moduleFn = fn; }

delete G.__edgesim_shims;
return {
  install: install,
  begin: begin,
  poll: poll,
  settle: settle,
  settleOne: settleOne,
  snapshot: snapshot,
};
