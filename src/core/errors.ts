/**
 * One error type for the whole application. `code` is the stable identifier (see
 * docs/errors.md); match on it, never on `instanceof` across a process or storage boundary.
 */
export type ErrorCategory = 'user' | 'operational' | 'unexpected';

export interface AppErrorOptions {
  status?: number;
  category?: ErrorCategory;
  cause?: unknown;
  /** JSON pointer (RFC 6901) of the offending field, when there is one. */
  pointer?: string;
  /** Extra members for the problem+json body. */
  extra?: Record<string, unknown>;
  /** Response headers (e.g. Retry-After) to send with this error. */
  headers?: Record<string, string>;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly category: ErrorCategory;
  readonly pointer: string | undefined;
  readonly extra: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: string, message: string, opts: AppErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = opts.status ?? 400;
    this.category = opts.category ?? (this.status >= 500 ? 'unexpected' : 'user');
    this.pointer = opts.pointer;
    this.extra = opts.extra;
    this.headers = opts.headers;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && 'status' in e;
}
