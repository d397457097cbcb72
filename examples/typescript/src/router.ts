// Viewer request: send "/" to the viewer's language, and serve "/docs/" as "/docs/index.html".
import { CfEvent, CfRequest, CfResponse } from "./cloudfront";
import { headerValue, preferredLanguage } from "./shared/headers";

const LANGUAGES = ["en", "fr", "de"];

export function handler(event: CfEvent): CfRequest | CfResponse {
  const { request } = event;
  if (request.uri === "/") {
    const language = preferredLanguage(headerValue(request.headers, "accept-language"), LANGUAGES);
    return {
      statusCode: 302,
      statusDescription: "Found",
      headers: { location: { value: `/${language ?? "en"}/` } },
    };
  }
  if (request.uri.endsWith("/")) {
    request.uri += "index.html";
  }
  return request;
}
