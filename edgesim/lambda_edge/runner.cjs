'use strict';
// edgesim's Lambda@Edge worker: one Node.js process that loads one function once (Lambda's init
// phase: module state survives between invocations of this worker) and runs one invocation at a
// time, speaking JSON lines with edgesim (edgesim/lambda_edge/worker.py):
//
//   in  (stdin):  {"type":"init", ...config}   then   {"type":"invoke","id":N,"event":{...},...}
//   out (fd 1):   {"type":"ready"} | {"type":"init_error",...}   then   {"type":"result","id":N,...}
//
// User code never writes to fd 1 directly: process.stdout/stderr and console are captured per
// invocation, formatted as Lambda's Node.js runtime writes them to CloudWatch
// ("<ISO time>\t<request id>\t<LEVEL>\t<message>").
//
// Completion semantics follow the Lambda Node.js runtime (aws-lambda-nodejs-runtime-interface-client,
// src/CallbackContext.js and src/Runtime.js):
// - the first of callback / context.succeed|fail|done / the returned promise wins;
// - callback(null, result) is delivered when the event loop is empty, unless
//   context.callbackWaitsForEmptyEventLoop = false; succeed/fail/done and a resolved promise
//   deliver at once;
// - a handler that never completes: when the event loop empties, a non-async handler succeeds
//   with null and an async one fails (Runtime.NodeJsExit);
// - an uncaught exception or unhandled rejection fails the invocation and ends the process.
//
// "The event loop is empty" is Node's 'beforeExit': stdin is unref'd while an invocation runs,
// so only the user's own timers, sockets and promises keep the loop alive.

const fs = require('fs');
const path = require('path');
const util = require('util');
const { pathToFileURL } = require('url');

const MAX_LOG_BYTES = 256 * 1024; // per invocation; beyond it one truncation line
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024; // Lambda's synchronous invocation payload quota

// ---- protocol output (fd 1 only; retries when the pipe is momentarily full) ----
function send(obj) {
  sendRaw(JSON.stringify(obj) + '\n');
}

function sendRaw(text) {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

// ---- the clock: Date follows edgesim's clock (an offset set per invocation); timers stay real ----
const RealDate = Date;
let clockOffset = 0;
function EdgeDate(...args) {
  if (!new.target) return new RealDate(RealDate.now() + clockOffset).toString();
  if (args.length === 0) return Reflect.construct(RealDate, [RealDate.now() + clockOffset], new.target);
  return Reflect.construct(RealDate, args, new.target);
}
EdgeDate.prototype = RealDate.prototype;
Object.defineProperty(EdgeDate, 'name', { value: 'Date' });
EdgeDate.now = () => RealDate.now() + clockOffset;
EdgeDate.parse = RealDate.parse;
EdgeDate.UTC = RealDate.UTC;
globalThis.Date = EdgeDate;

// ---- console capture ----
let config = null;
let current = null; // the invocation in progress
let pendingLogs = []; // written outside an invocation (init, late timers): go with the next reply
let pendingBytes = 0;

function logLine(level, text) {
  const requestId = current ? current.requestId : 'undefined';
  const line = `${new RealDate(EdgeDate.now()).toISOString()}\t${requestId}\t${level}\t${text}`;
  const sink = current ? current : null;
  const size = Buffer.byteLength(line);
  if (sink) {
    // Sent at once, so that what a function logged survives its timeout or crash.
    if (sink.logBytes + size > MAX_LOG_BYTES) {
      if (!sink.logsTruncated) send({ type: 'log', id: sink.id, line: '[edgesim] console output truncated at 256 KB' });
      sink.logsTruncated = true;
      return;
    }
    sink.logBytes += size;
    send({ type: 'log', id: sink.id, line });
  } else if (pendingBytes + size <= MAX_LOG_BYTES) {
    pendingBytes += size;
    pendingLogs.push(line);
  }
}

const LEVELS = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
for (const [method, level] of Object.entries(LEVELS)) {
  console[method] = (...args) => {
    let text = util.format(...args);
    if (method === 'trace') text = `Trace: ${text}\n${new Error().stack.split('\n').slice(2).join('\n')}`;
    logLine(level, text);
  };
}
function captureStream(stream, level) {
  stream.write = (chunk, encoding, cb) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    logLine(level, text.replace(/\n$/, ''));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
}
captureStream(process.stdout, 'INFO');
captureStream(process.stderr, 'ERROR');

// ---- errors as Lambda reports them ----
function formatError(err) {
  if (err instanceof Error || (err && typeof err === 'object' && 'stack' in err)) {
    const stack = typeof err.stack === 'string' ? err.stack.split('\n').slice(1).map((l) => l.trim()) : [];
    return { errorType: err.name || 'Error', errorMessage: String(err.message ?? ''), stack };
  }
  if (err === 'handled') return { errorType: 'Handled', errorMessage: 'handled', stack: [] };
  let message;
  try {
    message = typeof err === 'string' ? err : JSON.stringify(err);
  } catch (_) {
    message = String(err);
  }
  return { errorType: typeof err, errorMessage: message ?? String(err), stack: [] };
}

// ---- loading the handler (Lambda's rules: "<path/>module.export.path", tries .js .mjs .cjs) ----
class RuntimeError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

async function loadHandler(root, handlerString) {
  const base = path.basename(handlerString);
  const dir = path.dirname(handlerString);
  const match = /^([^.]*)\.(.*)$/.exec(base);
  if (!match || !match[2]) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${handlerString}`);
  }
  const [, moduleName, exportPath] = match;
  const stem = path.resolve(root, dir, moduleName);
  let mod;
  const candidates = ['.js', '.mjs', '.cjs'].map((ext) => stem + ext);
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    throw new RuntimeError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${moduleName}' (looked for ${candidates.map((f) => path.basename(f)).join(', ')} in ${path.join(root, dir)})`,
    );
  }
  try {
    if (file.endsWith('.mjs')) {
      mod = await import(pathToFileURL(file).href);
    } else {
      try {
        mod = require(file);
      } catch (err) {
        if (err && err.code === 'ERR_REQUIRE_ESM') mod = await import(pathToFileURL(file).href);
        else throw err;
      }
    }
  } catch (err) {
    if (err instanceof SyntaxError) {
      const e = new RuntimeError('Runtime.UserCodeSyntaxError', `${err.name}: ${err.message}`);
      e.stack = `${e.name}: ${e.message}\n${String(err.stack || '').split('\n').slice(0, 4).join('\n')}`;
      throw e;
    }
    throw err;
  }
  let fn = mod;
  for (const part of exportPath.split('.')) {
    fn = fn == null ? undefined : fn[part];
  }
  if (fn === undefined && mod && mod.default && typeof mod.default === 'object') {
    // An ES module bundled to CommonJS may hang its exports under default.
    let alt = mod.default;
    for (const part of exportPath.split('.')) alt = alt == null ? undefined : alt[part];
    fn = alt;
  }
  if (typeof fn !== 'function') {
    throw new RuntimeError(
      'Runtime.HandlerNotFound',
      fn === undefined ? `${moduleName}.${exportPath} is undefined or not exported` : `${moduleName}.${exportPath} is not a function`,
    );
  }
  return fn;
}

// ---- one invocation ----
let handler = null;

function finish(inv, outcome) {
  if (inv.reported) return;
  inv.reported = true;
  const reply = {
    type: 'result',
    id: inv.id,
    durationMs: Number(process.hrtime.bigint() - inv.started) / 1e6,
  };
  let resultText; // the result's JSON, spliced into the reply as is (no second round trip)
  if (outcome.error !== undefined) {
    reply.ok = false;
    reply.error = formatError(outcome.error);
  } else {
    let text;
    try {
      text = JSON.stringify(outcome.result === undefined ? null : outcome.result);
    } catch (err) {
      reply.ok = false;
      reply.error = { errorType: 'Runtime.ResponseSerializationError', errorMessage: `Unable to stringify response body: ${err.message}`, stack: [] };
    }
    if (text !== undefined) {
      if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES) {
        reply.ok = false;
        reply.error = { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, stack: [] };
      } else {
        reply.ok = true;
        resultText = text;
      }
    }
  }
  if (outcome.fatal) reply.fatal = true;
  if (outcome.returnIgnored) reply.returnIgnored = true;
  current = null;
  process.stdin.ref();
  if (resultText === undefined) send(reply);
  else sendRaw(`${JSON.stringify(reply).slice(0, -1)},"result":${resultText}}\n`);
}

function invoke(msg) {
  const started = process.hrtime.bigint();
  const deadline = RealDate.now() + msg.timeoutMs;
  // Whole milliseconds, as Date.now() always is.
  clockOffset = typeof msg.nowMs === 'number' ? Math.round(msg.nowMs) - RealDate.now() : 0;
  const inv = {
    id: msg.id,
    requestId: msg.requestId,
    started,
    logBytes: pendingBytes,
    logsTruncated: false,
    reported: false,
    completed: false, // the first of callback/succeed/fail/done/promise has been called
    waitingSuccess: undefined, // callback(null, result) waiting for an empty event loop
  };
  // Lines written since the last invocation (late timers) go with this one, as in Lambda.
  for (const line of pendingLogs) send({ type: 'log', id: inv.id, line });
  pendingLogs = [];
  pendingBytes = 0;
  current = inv;
  process.stdin.unref();

  let waitsForEmptyLoop = true;
  const once = (fn) => (...args) => {
    if (inv.completed) return;
    inv.completed = true;
    fn(...args);
  };
  const done = once((err, result) => {
    if (err !== undefined && err !== null) finish(inv, { error: err });
    else finish(inv, { result });
  });
  const callback = once((err, result) => {
    if (err !== undefined && err !== null) finish(inv, { error: err });
    else if (!waitsForEmptyLoop) finish(inv, { result });
    else inv.waitingSuccess = { result };
  });
  const succeed = (result) => done(null, result);
  const fail = (err) => done(err === undefined || err === null ? 'handled' : err, null);
  const c = config;
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitsForEmptyLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitsForEmptyLoop = value;
    },
    succeed,
    fail,
    done,
    functionName: c.functionName,
    functionVersion: c.functionVersion,
    invokedFunctionArn: c.invokedFunctionArn,
    memoryLimitInMB: String(c.memoryMb),
    awsRequestId: msg.requestId,
    logGroupName: c.logGroupName,
    logStreamName: c.logStreamName,
    getRemainingTimeInMillis: () => Math.max(deadline - RealDate.now(), 0),
  };
  inv.isAsync = handler.constructor && handler.constructor.name === 'AsyncFunction';
  try {
    const result = handler(msg.event, context, callback);
    if (result && typeof result.then === 'function') {
      result.then(succeed, fail);
    } else if (result !== undefined) {
      // The runtime ignores what a non-async handler returns: only callback or a promise count.
      inv.returnIgnored = true;
    }
  } catch (err) {
    callback(err);
  }
}

process.on('beforeExit', () => {
  const inv = current;
  if (!inv) return; // between invocations stdin is ref'd: this only happens when it closed
  if (inv.waitingSuccess) finish(inv, inv.waitingSuccess);
  else if (!inv.completed) {
    inv.completed = true;
    if (inv.isAsync) {
      finish(inv, { error: new RuntimeError('Runtime.NodeJsExit', 'Runtime exited without providing a reason') });
    } else finish(inv, { result: null, returnIgnored: inv.returnIgnored });
  }
});

function fatal(kind) {
  return (err) => {
    const inv = current;
    if (inv && !inv.reported) {
      finish(inv, { error: err, fatal: true });
    } else {
      logLine('ERROR', `${kind}: ${util.inspect(err)}`);
      send({ type: 'fatal', error: formatError(err), logs: pendingLogs });
    }
    // Lambda's runtime ends the process after an uncaught error: the next invocation gets a
    // fresh one (129: uncaught exception, 128: unhandled rejection, as the runtime exits).
    process.exit(kind === 'uncaughtException' ? 129 : 128);
  };
}
process.on('uncaughtException', fatal('uncaughtException'));
process.on('unhandledRejection', fatal('unhandledRejection'));

// ---- the input loop ----
let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let nl;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    if (line.trim()) dispatch(JSON.parse(line));
  }
});
process.stdin.on('end', () => process.exit(0));

function dispatch(msg) {
  if (msg.type === 'init') {
    config = msg;
    loadHandler(msg.taskRoot, msg.handler).then(
      (fn) => {
        handler = fn;
        send({ type: 'ready', logs: pendingLogs });
        pendingLogs = [];
        pendingBytes = 0;
      },
      (err) => {
        send({ type: 'init_error', error: formatError(err), logs: pendingLogs });
        process.exit(1);
      },
    );
  } else if (msg.type === 'invoke') {
    invoke(msg);
  }
}
