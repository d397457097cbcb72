// Viewer-response function that adds the usual security headers unless the origin set them.
function handler(event) {
  var response = event.response;
  var headers = response.headers;
  var wanted = {
    'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
  };
  Object.keys(wanted).forEach(function (name) {
    if (!headers[name]) {
      headers[name] = { value: wanted[name] };
    }
  });
  return response;
}
