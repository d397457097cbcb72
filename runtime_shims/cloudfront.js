// The `cloudfront` module of runtime cloudfront-js-2.0 (AWS docs: "Helper methods for key value
// stores", "Helper methods for origin modification", "General helper methods").
// makeCloudfront(host) builds one module object per invocation; `host` is the prelude's bridge to
// the per-invocation state (KVS request queue, origin-modification record, edge location).

var KVS_FORMATS = ['string', 'json', 'bytes'];
var jsonParse = JSON.parse;
// Captured: the prelude wraps Object.defineProperty, and user code may replace either.
var defineProperty = shims.intrinsics.defineProperty;
var promiseReject = Promise.reject.bind(Promise);
var makeCwt = shims.cwt.makeCwt;

function kvsError(message) {
  return new Error(message);
}

function makeHandle(host) {
  function checkKey(key) {
    if (typeof key !== 'string') {
      return promiseReject(new TypeError('key must be a string, got ' + typeof key));
    }
    return null;
  }
  return {
    get: function get(key, options) {
      var bad = checkKey(key);
      if (bad) return bad;
      var format = 'string';
      if (options !== undefined && options !== null) {
        if (typeof options !== 'object') {
          return promiseReject(new TypeError('options must be an object'));
        }
        if (options.format !== undefined) format = options.format;
      }
      if (KVS_FORMATS.indexOf(format) < 0) {
        return promiseReject(new TypeError('unknown format "' + format +
          '": expected "string", "json" or "bytes"'));
      }
      return host.kvsRequest('get', key, format);
    },
    exists: function exists(key) {
      var bad = checkKey(key);
      if (bad) return bad;
      return host.kvsRequest('exists', key, null);
    },
    meta: function meta() {
      return host.kvsRequest('meta', null, null);
    },
  };
}

function originHelper(host, name) {
  return function (argument) {
    host.recordOrigin(name, argument);
  };
}

exports.makeCloudfront = function makeCloudfront(host) {
  var cf = {
    // A function has at most one associated store; real code passes the store's id (or a
    // placeholder), so any id selects that store. With no store the call throws.
    kvs: function kvs(id) {
      if (!host.kvsAssociated()) {
        throw kvsError('KVSNamespaceNotFound: no key value store is associated with this function');
      }
      void id;
      return makeHandle(host);
    },
    updateRequestOrigin: originHelper(host, 'updateRequestOrigin'),
    selectRequestOriginById: function selectRequestOriginById(originId, overrides) {
      host.recordOrigin('selectRequestOriginById',
        overrides === undefined ? originId : [originId, overrides]);
    },
    createRequestOriginGroup: originHelper(host, 'createRequestOriginGroup'),
    logCustomData: function logCustomData(value) {
      host.logCustomData(value);
    },
  };
  defineProperty(cf, 'edgeLocation', {
    enumerable: true,
    get: function () {
      // AWS docs: available in viewer-request events; empty in viewer-response.
      return host.eventType() === 'viewer-request' ? host.edgeLocation() : {};
    },
  });
  defineProperty(cf, 'distributionTenant', {
    enumerable: true,
    get: function () {
      // AWS docs (SaaS Manager): on a standard distribution this is the error users see.
      throw new TypeError('distributionTenant module is not available');
    },
  });
  // CBOR Web Tokens (AWS docs: "CWT support for CloudFront Functions"); see runtime_shims/cwt.js.
  defineProperty(cf, 'cwt', {
    enumerable: true, writable: true, configurable: true, value: makeCwt(),
  });
  return cf;
};

// Settle one queued KVS call. status: 'ok' (payload = value or meta), 'missing', or 'error'
// (payload = message, e.g. an injected fault).
exports.settleKvs = function settleKvs(host, waiter, status, payload) {
  if (status === 'error') {
    waiter.reject(kvsError(String(payload)));
    return;
  }
  if (waiter.op === 'exists') {
    waiter.resolve(status === 'ok');
    return;
  }
  if (waiter.op === 'meta') {
    waiter.resolve(payload);
    return;
  }
  if (status === 'missing') {
    // The docs only say get() "returns an error" for a missing key; one typings package names it
    // KeyNotFound. The message keeps that name and adds the key.
    waiter.reject(kvsError('KeyNotFound: key "' + waiter.key + '" does not exist'));
    return;
  }
  if (waiter.format === 'json') {
    var parsed;
    try {
      parsed = jsonParse(payload);
    } catch (e) {
      waiter.reject(e);
      return;
    }
    waiter.resolve(parsed);
  } else if (waiter.format === 'bytes') {
    waiter.resolve(host.Buffer.from(payload, 'utf8'));
  } else {
    waiter.resolve(payload);
  }
};
