/**
 * What an executor throws to steer the dispatcher (the Inngest vocabulary). Any other error is
 * retried with backoff. The stored error text is `CODE: message`; match stored errors by code.
 */

/** The action can never succeed as it is (bad params, 4xx, endpoint gone): dead-letter it at once. */
export class NonRetriableError extends Error {
  readonly code: string;
  constructor(message: string, opts: { code?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'NonRetriableError';
    this.code = opts.code ?? 'PW_ACTION_FAILED';
  }
}

/** The receiver asked to wait (429, 503 with Retry-After): retry after exactly `retryAfterMs`. */
export class RetryAfterError extends Error {
  readonly code: string;
  constructor(
    message: string,
    readonly retryAfterMs: number,
    opts: { code?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RetryAfterError';
    this.code = opts.code ?? 'PW_ACTION_RETRY_AFTER';
  }
}

/** By name as well as class, so a copy of this module loaded twice still counts. */
export function isNonRetriable(e: unknown): e is NonRetriableError {
  return e instanceof NonRetriableError || (e instanceof Error && e.name === 'NonRetriableError');
}

export function isRetryAfter(e: unknown): e is RetryAfterError {
  return (
    e instanceof RetryAfterError ||
    (e instanceof Error && e.name === 'RetryAfterError' && typeof (e as { retryAfterMs?: unknown }).retryAfterMs === 'number')
  );
}

/** `CODE: message` (code when the error has one), kept short for the stored row. */
export function errorText(e: unknown): string {
  const text = (() => {
    if (!(e instanceof Error)) return String(e);
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && code !== '' ? `${code}: ${e.message}` : e.message;
  })();
  return text.length > 2000 ? `${text.slice(0, 1997)}...` : text;
}
