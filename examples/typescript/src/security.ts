// Viewer response: security headers on every response, and no server banner.
import { CfEvent, CfResponse } from "./cloudfront";
import { headerValue, setHeaders } from "./shared/headers";

const SECURITY = {
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
};

export function handler(event: CfEvent): CfResponse {
  const response = event.response as CfResponse;
  setHeaders(response.headers, { ...SECURITY });
  if (headerValue(response.headers, "server") !== undefined) {
    delete response.headers["server"];
  }
  return response;
}
