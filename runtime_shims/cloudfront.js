// The `cloudfront` module of runtime cloudfront-js-2.0 (AWS docs: "Helper methods for key value
// stores", "Helper methods for origin modification", "General helper methods").
// cloudfrontModule(host, cwt) is called once per context and returns make(), which builds one
// module object per invocation; `host` is the prelude's bridge to the per-invocation state (KVS
// request queue, origin-modification record, edge location), `cwt` the (metered) CWT functions.
// The functions the module objects hold are made once, here, and shared by every invocation: the
// caller freezes them (as it freezes the crypto and querystring modules), so nothing can be stored
// on them; the objects holding them (the module, cf.cwt, each cf.kvs() handle) are new each time.

var KVS_FORMATS = ['string', 'json', 'bytes'];
var jsonParse = JSON.parse;
// Captured: the prelude wraps Object.defineProperty, and user code may replace either.
var defineProperty = shims.intrinsics.defineProperty;
var promiseReject = Promise.reject.bind(Promise);

function kvsError(message) {
  return new Error(message);
}

function checkKey(key) {
  if (typeof key !== 'string') {
    return promiseReject(new TypeError('key must be a string, got ' + typeof key));
  }
  return null;
}

exports.cloudfrontModule = function cloudfrontModule(host, cwt) {
  // A handle's methods (cf.kvs() returns a new handle holding these).
  function get(key, options) {
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
  }
  function exists(key) {
    var bad = checkKey(key);
    if (bad) return bad;
    return host.kvsRequest('exists', key, null);
  }
  function meta() {
    return host.kvsRequest('meta', null, null);
  }
  // A function has at most one associated store; real code passes the store's id (or a
  // placeholder), so any id selects that store. With no store the call throws.
  function kvs(id) {
    if (!host.kvsAssociated()) {
      throw kvsError('KVSNamespaceNotFound: no key value store is associated with this function');
    }
    void id;
    return { get: get, exists: exists, meta: meta };
  }
  function originHelper(name) {
    return function (argument) {
      host.recordOrigin(name, argument);
    };
  }
  var updateRequestOrigin = originHelper('updateRequestOrigin');
  var createRequestOriginGroup = originHelper('createRequestOriginGroup');
  function selectRequestOriginById(originId, overrides) {
    host.recordOrigin('selectRequestOriginById',
      overrides === undefined ? originId : [originId, overrides]);
  }
  function logCustomData(value) {
    host.logCustomData(value);
  }
  var edgeLocation = {
    enumerable: true,
    get: function () {
      // AWS docs: available in viewer-request events; empty in viewer-response.
      return host.eventType() === 'viewer-request' ? host.edgeLocation() : {};
    },
  };
  var distributionTenant = {
    enumerable: true,
    get: function () {
      // AWS docs (SaaS Manager): on a standard distribution this is the error users see.
      throw new TypeError('distributionTenant module is not available');
    },
  };
  var validateToken = cwt.validateToken;
  var generateToken = cwt.generateToken;
  function make() {
    var cf = {
      kvs: kvs,
      updateRequestOrigin: updateRequestOrigin,
      selectRequestOriginById: selectRequestOriginById,
      createRequestOriginGroup: createRequestOriginGroup,
      logCustomData: logCustomData,
    };
    defineProperty(cf, 'edgeLocation', edgeLocation);
    defineProperty(cf, 'distributionTenant', distributionTenant);
    // CBOR Web Tokens (AWS docs: "CWT support for CloudFront Functions"); see runtime_shims/cwt.js.
    defineProperty(cf, 'cwt', {
      enumerable: true, writable: true, configurable: true,
      value: { validateToken: validateToken, generateToken: generateToken },
    });
    return cf;
  }
  // What the caller freezes: every function a module object or a handle can reach.
  make.shared = [kvs, get, exists, meta, updateRequestOrigin, createRequestOriginGroup,
    selectRequestOriginById, logCustomData, edgeLocation.get, distributionTenant.get,
    validateToken, generateToken];
  return make;
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
