// HTTP errors of the console API as RFC 9457 problem+json. Route code throws HttpProblem;
// the error handler in api/index.ts turns it (and validation errors) into the response.
// Public text only: internal error messages go to the log, never to the client.

export class HttpProblem extends Error {
  readonly status: number;
  readonly title: string;
  readonly extra: Record<string, unknown>;
  constructor(status: number, title: string, detail?: string, extra: Record<string, unknown> = {}) {
    super(detail ?? title);
    this.name = "HttpProblem";
    this.status = status;
    this.title = title;
    this.extra = detail === undefined ? extra : { detail, ...extra };
  }
}

export const notFound = (what = "not found"): HttpProblem => new HttpProblem(404, what);
export const forbidden = (detail?: string): HttpProblem => new HttpProblem(403, "forbidden", detail);
export const badRequest = (detail: string, extra: Record<string, unknown> = {}): HttpProblem =>
  new HttpProblem(400, "bad request", detail, extra);

export function problemBody(status: number, title: string, extra: Record<string, unknown> = {}) {
  return { type: "about:blank", title, status, ...extra };
}
