// The parts of the CloudFront Functions event these functions use.
export interface CfValue {
  value: string;
}
export type CfHeaders = Record<string, CfValue | undefined>;

export interface CfRequest {
  method: string;
  uri: string;
  headers: CfHeaders;
  querystring: Record<string, CfValue | undefined>;
}

export interface CfResponse {
  statusCode: number;
  statusDescription?: string;
  headers: CfHeaders;
}

export interface CfEvent {
  request: CfRequest;
  response?: CfResponse;
}
