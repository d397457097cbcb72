// Baseline for benchmarks/runtime.py: the same handler run per request in a fresh Node.js `vm`
// context (fresh state per invocation, as edgesim gives), with the event crossing as JSON and the
// KVS read answered by a host promise. Reads one JSON job on stdin, prints one JSON line.
'use strict';
const vm = require('vm');
const crypto = require('crypto');
const querystring = require('querystring');

const job = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const kvsData = job.kvs || {};
const cloudfront = {
  kvs: () => ({
    get: (key, opts) => {
      if (!(key in kvsData)) return Promise.reject(new Error('KeyNotFound'));
      const v = kvsData[key];
      return Promise.resolve(opts && opts.format === 'json' ? JSON.parse(v) : v);
    },
  }),
};
const modules = { cloudfront, crypto, querystring };
const script = new vm.Script(job.body + '\n;handler');
const eventJson = JSON.stringify(job.event);

async function once() {
  const ctx = vm.createContext({ console: { log() {} }, Buffer, require: (n) => modules[n] });
  const handler = script.runInContext(ctx);
  const out = await handler(JSON.parse(eventJson));
  return JSON.stringify(out);
}

(async () => {
  for (let i = 0; i < job.warmup; i++) await once();
  const times = [];
  for (let i = 0; i < job.iterations; i++) {
    const t = process.hrtime.bigint();
    await once();
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  const pick = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  process.stdout.write(JSON.stringify({ p50: pick(0.5), p99: pick(0.99) }) + '\n');
})();
