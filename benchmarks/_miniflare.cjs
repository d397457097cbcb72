// Miniflare 4 (workerd) running the logic of benchmarks/functions/ab_router.js as a Worker, for
// benchmarks/serve.py: the experiment's JSON configuration is read from a KV namespace on every
// request, the `uid` cookie is hashed with FNV-1a, the path gets the variant's prefix, utm_*
// parameters are stripped and the request goes to the origin with the variant in a header.
//
//   node benchmarks/_miniflare.cjs ORIGIN_URL PORT CONFIG_JSON
//
// Prints "miniflare: URL" once it serves. Miniflare is found with Node's resolution (NODE_PATH
// included, so a global install works); benchmarks/serve.py runs this only when it is installed.
// Required as a module, it exports the Worker's source (tests/unit/test_bench_serve_smoke.py
// checks that it routes as ab_router.js does).
'use strict';

const { pathToFileURL } = require('node:url');

const WORKER = `
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function chooseVariant(variants, bucket) {
  let total = 0;
  for (const v of variants) total += v.weight;
  if (total <= 0) return null;
  let point = bucket % total;
  for (const v of variants) {
    if (point < v.weight) return v;
    point -= v.weight;
  }
  return null;
}

function cookie(header, name) {
  for (const part of (header || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    const uid = cookie(request.headers.get('cookie'), 'uid');
    if (uid) {
      const config = await env.CONFIG.get('ab:config', { type: 'json' });
      if (config && Array.isArray(config.variants) && url.pathname.startsWith(config.prefix)) {
        const bucket = fnv1a((config.salt || '') + ':' + uid) % 10000;
        const variant = chooseVariant(config.variants, bucket);
        if (variant) {
          const prefix = config.stripParams || 'utm_';
          let removed = 0;
          for (const name of [...url.searchParams.keys()]) {
            if (name.toLowerCase().startsWith(prefix)) {
              url.searchParams.delete(name);
              removed++;
            }
          }
          url.pathname = variant.path + url.pathname;
          headers.set('x-ab-variant', variant.name);
          headers.set('x-ab-bucket', String(bucket));
          if (removed > 0) headers.set('x-ab-stripped', String(removed));
        }
      }
    }
    const target = env.ORIGIN + url.pathname + url.search;
    return fetch(target, { method: request.method, headers, body: request.body });
  },
};
`;

// The package is CommonJS (its "main"); should a release be ESM only, import() loads it.
async function loadMiniflare() {
  try {
    return require('miniflare');
  } catch (err) {
    if (err.code !== 'ERR_REQUIRE_ESM') throw err;
    return import(pathToFileURL(require.resolve('miniflare')).href);
  }
}

async function main() {
  const [origin, port, config] = process.argv.slice(2);
  const { Miniflare } = await loadMiniflare();
  const mf = new Miniflare({
    modules: true,
    script: WORKER,
    compatibilityDate: '2024-09-23',
    kvNamespaces: ['CONFIG'],
    bindings: { ORIGIN: origin.replace(/\/$/, '') },
    host: '127.0.0.1',
    port: Number(port),
  });
  const url = await mf.ready;
  const namespace = await mf.getKVNamespace('CONFIG');
  await namespace.put('ab:config', config);
  console.log(`miniflare: ${String(url).replace(/\/$/, '')}`);
  const stop = async () => {
    await mf.dispose();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

module.exports = { WORKER };

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
