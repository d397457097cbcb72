// Redirects viewers to their country's mirror. Needs the CloudFront-Viewer-Country header, which
// CloudFront passes to functions only when the behaviour's policies include it.
var mirrors = {
  DE: 'https://de.example.com',
  FR: 'https://fr.example.com',
  JP: 'https://jp.example.com',
};

function handler(event) {
  var request = event.request;
  var country = request.headers['cloudfront-viewer-country'];
  var target = country && mirrors[country.value];
  if (!target) {
    return request;
  }
  return {
    statusCode: 302,
    statusDescription: 'Found',
    headers: {
      location: { value: target + request.uri },
      'cache-control': { value: 'max-age=300' },
    },
  };
}
