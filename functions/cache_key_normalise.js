// Query-string normalisation, so that more requests share a cache key (use it with a cache policy
// that includes all query strings: the function decides what is left of them). The rules live in
// one KeyValueStore key, editable without republishing:
//   cachekey:rules  {"allow": ["page", "q"], "lowercase": ["q"], "drop": ["utm_*", "gclid"]}
// - parameter names are lower-cased (`Page=2` and `page=2` are one parameter);
// - `drop` removes tracking parameters; an entry ending in `*` is a prefix (`utm_*`; a bare `*`
//   is ignored rather than dropping everything);
// - `allow`, when present, keeps only the listed parameters (absent: keep everything not dropped);
// - `lowercase` lower-cases the values of the listed parameters;
// - percent-escapes get upper-case hex digits (`%2f` → `%2F`, the same octet);
// - parameters are sorted by name; repeated values of one parameter keep their order, since
//   origins may read `?tag=a&tag=b` as a list.
// The result is written back as a query string. If the rules cannot be read or make no sense,
// the request passes unchanged (fail-open: the cache just gets fewer hits).
import cf from 'cloudfront';

const ESCAPE = /%[0-9a-f]{2}/gi;

function nameSet(list) {
  const set = Object.create(null);
  for (let i = 0; i < list.length; i++) {
    set[String(list[i]).toLowerCase()] = true;
  }
  return set;
}

function isNameList(list) {
  return list === undefined || (Array.isArray(list) &&
    list.every(function (item) { return typeof item === 'string'; }));
}

// Compiled rules, or null if the stored value is not a rules object.
function compile(rules) {
  if (!rules || typeof rules !== 'object' || Array.isArray(rules) || !isNameList(rules.allow) ||
      !isNameList(rules.lowercase) || !isNameList(rules.drop)) {
    return null;
  }
  const drop = rules.drop || [];
  return {
    allow: rules.allow ? nameSet(rules.allow) : null,
    lowercase: nameSet(rules.lowercase || []),
    drop: nameSet(drop.filter(function (n) { return n.slice(-1) !== '*'; })),
    dropPrefixes: drop.filter(function (n) { return n.length > 1 && n.slice(-1) === '*'; })
      .map(function (n) { return n.slice(0, -1).toLowerCase(); }),
  };
}

function dropped(name, rules) {
  if (name === '' || rules.drop[name] || (rules.allow && !rules.allow[name])) {
    return true;
  }
  return rules.dropPrefixes.some(function (prefix) { return name.indexOf(prefix) === 0; });
}

function upperEscape(escape) {
  return escape.toUpperCase();
}

function normalise(querystring, rules) {
  const kept = Object.create(null);
  Object.keys(querystring).forEach(function (original) {
    const name = original.toLowerCase();
    if (dropped(name, rules)) {
      return;
    }
    const entry = querystring[original];
    const values = entry.multiValue ? entry.multiValue : [entry];
    const list = kept[name] || (kept[name] = []);
    for (let i = 0; i < values.length; i++) {
      let value = values[i].value.replace(ESCAPE, upperEscape);
      if (rules.lowercase[name]) {
        value = value.toLowerCase().replace(ESCAPE, upperEscape);
      }
      list.push(value === '' ? name : name + '=' + value);
    }
  });
  let parts = [];
  Object.keys(kept).sort().forEach(function (name) {
    parts = parts.concat(kept[name]);
  });
  return parts.join('&');
}

async function handler(event) {
  const request = event.request;
  let rules;
  try {
    const kvs = cf.kvs();
    const stored = await kvs.get('cachekey:rules', { format: 'json' });
    rules = compile(stored);
  } catch (err) {
    console.log('cache key rules unavailable: ' + err.message);
    return request;
  }
  if (!rules) {
    console.log('cache key rules malformed; query left as is');
    return request;
  }
  request.querystring = normalise(request.querystring, rules);
  return request;
}
