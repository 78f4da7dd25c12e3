/**
 * The one error mapper: every error leaves as RFC 9457 `application/problem+json` with a
 * stable `code` (docs/errors.md). Nothing escapes as a bare 500 or a crash.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../core/index.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  pointer?: string;
  [k: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  422: 'Unprocessable Content',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Translates Fastify's own errors into AppErrors with Pitwall codes. */
export function fromFastify(e: FastifyError): AppError {
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PW_BODY_TOO_LARGE', 'the request body is larger than this route accepts', { status: 413, cause: e });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('PW_MEDIA_TYPE', 'unsupported Content-Type for this route', { status: 415, cause: e });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('PW_BODY_MALFORMED', 'the body is empty; a JSON document was expected', { status: 400, cause: e });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('PW_BODY_MALFORMED', `the body is not valid JSON: ${e.message}`, { status: 400, cause: e });
    case 'FST_ERR_VALIDATION':
      return new AppError('PW_REQUEST_INVALID', e.message, { status: 400, cause: e });
    default:
      break;
  }
  if (e instanceof SyntaxError || e.name === 'SyntaxError') {
    return new AppError('PW_BODY_MALFORMED', `the body is not valid JSON: ${e.message}`, { status: 400, cause: e });
  }
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) return new AppError('PW_REQUEST_INVALID', e.message, { status, cause: e });
  return new AppError('PW_INTERNAL', 'an unexpected error occurred; it has been logged', { status: 500, category: 'unexpected', cause: e });
}

export function toProblem(err: AppError, instance?: string): Problem {
  return {
    type: `https://pitwall.dev/errors#${err.code}`,
    title: TITLES[err.status] ?? 'Error',
    status: err.status,
    detail: err.message,
    code: err.code,
    ...(instance ? { instance } : {}),
    ...(err.pointer !== undefined ? { pointer: err.pointer } : {}),
    ...(err.extra ?? {}),
  };
}

export function sendProblem(reply: FastifyReply, req: FastifyRequest, e: unknown): FastifyReply {
  const err = isAppError(e) ? (e as AppError) : fromFastify(e as FastifyError);
  if (err.status >= 500) req.log.error({ err: e, code: err.code }, 'request failed');
  else req.log.debug({ code: err.code }, err.message);
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="pitwall", Basic realm="pitwall"');
  return reply.code(err.status).type('application/problem+json').send(toProblem(err, req.url));
}
