// A/B cohort assignment. The experiment lives in the KeyValueStore under "experiment:checkout":
//   {"path": "/checkout", "variants": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50}]}
// A viewer's cohort comes from a SHA-256 of their `uid` cookie, so it is the same on every request
// and at every edge. Without a uid, or when the experiment cannot be read, the request passes
// through unchanged (fail-open) — also when no store is associated: cf.kvs() throws then, so it
// is called inside the handler's try, not at module load.
import cf from 'cloudfront';
import crypto from 'crypto';

function bucketOf(uid) {
  const digest = crypto.createHash('sha256').update(uid).digest('hex');
  return parseInt(digest.slice(0, 8), 16) % 100;
}

function pickVariant(variants, bucket) {
  let edge = 0;
  for (let i = 0; i < variants.length; i++) {
    edge += variants[i].weight;
    if (bucket < edge) {
      return variants[i].name;
    }
  }
  return null;
}

async function handler(event) {
  const request = event.request;
  const uid = request.cookies.uid;
  if (!uid) {
    return request;
  }
  let experiment;
  try {
    experiment = await cf.kvs().get('experiment:checkout', { format: 'json' });
  } catch (err) {
    console.log('experiment unavailable: ' + err.message);
    return request;
  }
  if (request.uri.indexOf(experiment.path) !== 0) {
    return request;
  }
  const variant = pickVariant(experiment.variants, bucketOf(uid.value));
  if (variant) {
    request.uri = '/' + variant + request.uri;
    request.headers['x-cohort'] = { value: variant };
    console.log('cohort ' + variant + ' for ' + request.uri);
  }
  return request;
}
