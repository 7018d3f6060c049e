// The one error type the HTTP layer turns into {"detail": ..., "code": ...} with its status.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export const badRequest = (code: string, detail: string) => new ApiError(400, code, detail);
export const notFound = (detail = 'Not found') => new ApiError(404, 'not_found', detail);
