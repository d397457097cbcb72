// Helpers shared by both functions: the bundler copies what each one uses into its file.
import { CfHeaders } from "../cloudfront";

export function headerValue(headers: CfHeaders, name: string): string | undefined {
  const entry = headers[name];
  return entry ? entry.value : undefined;
}

export function setHeaders(headers: CfHeaders, values: Record<string, string>): void {
  for (const name of Object.keys(values)) {
    headers[name] = { value: values[name] };
  }
}

// The first language of an Accept-Language header ("fr-CA,fr;q=0.9" -> "fr"), if supported.
export function preferredLanguage(header: string | undefined, supported: string[]): string | undefined {
  if (!header) {
    return undefined;
  }
  const [first] = header.split(",");
  const [language] = first.trim().toLowerCase().split("-");
  return supported.indexOf(language) >= 0 ? language : undefined;
}
