/**
 * `webhook.send`: a signed POST (Standard Webhooks) whose `webhook-id` is the action key, the
 * same on every retry, so the receiver can drop a repeat. The body is
 * `{"type": <event>, "timestamp": <action created>, "data": {…}}` and is identical on every
 * attempt; only `webhook-timestamp` and the signature change.
 *
 * Answers: 2xx done · 410 the endpoint is disabled and the action dead-lettered · 3xx dead
 * (redirects are not followed) · 429/503 with Retry-After retried then · 408, 425, 429, 5xx,
 * timeouts and unreachable hosts retried with backoff · other 4xx dead · a forbidden address
 * (SSRF guard) dead.
 */
import { isoTime } from '../core/index.ts';
import { disableEndpoint, isEndpointDisabled } from './endpoints.ts';
import { NonRetriableError, RetryAfterError } from './errors.ts';
import type { OutboundHttp } from './outbound.ts';
import { type Field, httpUrl, obj, requireValid, str, stringMap, validate } from './params.ts';
import { SECRET_NAME } from './secrets.ts';
import { signatureHeaders } from './signing.ts';
import { type Cidr, checkUrl } from './ssrf.ts';
import type { ActionExecutor, ActionResult, ExecutorContext } from './types.ts';

/** Longest Retry-After honoured; a longer one is clamped. */
const MAX_RETRY_AFTER_MS = 86_400_000;
const RESERVED_HEADERS =
  /^(webhook-.*|content-type|content-length|host|connection|transfer-encoding|user-agent|te|upgrade|expect|keep-alive|proxy-.*)$/i;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;

export interface WebhookDelivery {
  url: string;
  /** Name in the secret store. */
  secret: string;
  /** `webhook-id`: the action key. */
  id: string;
  body: string;
  headers?: Record<string, string>;
}

/** Sends signed webhooks through the guarded client; shared by `webhook.send` and `alert`. */
export class WebhookSender {
  constructor(
    private readonly http: OutboundHttp,
    private readonly allow: readonly Cidr[],
  ) {}

  async deliver(d: WebhookDelivery, ctx: ExecutorContext): Promise<ActionResult> {
    const url = checkUrl(d.url, this.allow);
    const off = await isEndpointDisabled(ctx.db, d.url);
    if (off)
      throw new NonRetriableError(
        `the endpoint ${url.host}${url.pathname} is disabled since ${isoTime(off.disabledAtMs)} (${off.reason}); re-enable it with pitwall actions endpoints --enable <url>`,
        {
          code: 'PW_WEBHOOK_ENDPOINT_DISABLED',
        },
      );
    const secrets = await ctx.secrets.get(d.secret);
    if (!secrets || secrets.length === 0)
      throw new NonRetriableError(`no secret named "${d.secret}": create it with pitwall secrets set ${d.secret}`, {
        code: 'PW_SECRET_NOT_FOUND',
      });
    const headers = {
      ...d.headers,
      'content-type': 'application/json',
      'user-agent': 'Pitwall-Webhooks/1',
      ...signatureHeaders(secrets, d.id, Math.floor(ctx.clock.now() / 1000), d.body),
    };
    const r = await this.http.post(url, headers, d.body);
    const detail = { status: r.status, response_bytes: r.bytes, ...(r.truncated ? { response_truncated: true } : {}) };
    if (r.status >= 200 && r.status < 300) return { detail };
    const said = r.snippet.trim() === '' ? '' : `: ${r.snippet.trim().slice(0, 200)}`;
    if (r.status === 410) {
      await disableEndpoint(ctx.db, d.url, ctx.clock.now(), `410 Gone${said}`);
      throw new NonRetriableError(`${url.host} answered 410 Gone: the endpoint is now disabled`, { code: 'PW_WEBHOOK_GONE' });
    }
    if (r.status >= 300 && r.status < 400)
      throw new NonRetriableError(
        `${url.host} answered ${r.status} (to ${String(r.headers.location ?? '?').slice(0, 200)}): redirects are not followed`,
        {
          code: 'PW_WEBHOOK_REDIRECT',
        },
      );
    const wait = retryAfterMs(r.headers['retry-after'], ctx.clock.now());
    if ((r.status === 429 || r.status === 503) && wait !== undefined)
      throw new RetryAfterError(`${url.host} answered ${r.status} with Retry-After`, wait, { code: 'PW_WEBHOOK_STATUS' });
    if (r.status === 408 || r.status === 425 || r.status === 429 || r.status >= 500)
      throw Object.assign(new Error(`${url.host} answered ${r.status}${said}`), { code: 'PW_WEBHOOK_STATUS' });
    throw new NonRetriableError(`${url.host} rejected the webhook with ${r.status}${said}`, { code: 'PW_WEBHOOK_REJECTED' });
  }
}

/** Retry-After as seconds or an HTTP date, relative to `nowMs`; undefined when absent or unreadable. */
export function retryAfterMs(h: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(h) ? h[0] : h;
  if (v === undefined || v.trim() === '') return undefined;
  const ms = /^\d+$/.test(v.trim()) ? Number(v.trim()) * 1000 : Date.parse(v) - nowMs;
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : undefined;
}

export const secretName: Field['check'] = (v, pointer, ctx) => {
  if (typeof v !== 'string' || !SECRET_NAME.test(v))
    ctx.out.push({ pointer, message: 'must name a secret in the secret store (letters, digits, ".", "_", "-"), never the secret itself' });
};

const headerMap = stringMap(HEADER_NAME, 'must be an HTTP header name');

const WEBHOOK_FIELDS: Record<string, Field> = {
  url: { required: true, check: httpUrl },
  secret: { required: true, check: secretName },
  event: { check: str(200) },
  data: { check: obj },
  headers: {
    check: (v, pointer, ctx) => {
      headerMap(v, pointer, ctx);
      if (v !== null && typeof v === 'object')
        for (const k of Object.keys(v))
          if (RESERVED_HEADERS.test(k)) ctx.out.push({ pointer: `${pointer}/${k}`, message: 'is set by Pitwall and cannot be overridden' });
    },
  },
};

export function webhookExecutor(sender: WebhookSender): ActionExecutor {
  return {
    type: 'webhook.send',
    channel: 'webhook',
    reachesCustomer: true,
    defaultMinutesSaved: 5,
    validateParams: (params) => validate(params, WEBHOOK_FIELDS, false),
    async execute(action, ctx) {
      requireValid('webhook.send', validate(action.params, WEBHOOK_FIELDS, true));
      const p = action.params as {
        url: string;
        secret: string;
        event?: string;
        data?: Record<string, unknown>;
        headers?: Record<string, string>;
      };
      const body = JSON.stringify({ type: p.event ?? 'pitwall.action', timestamp: isoTime(action.createdAtMs), data: p.data ?? {} });
      return sender.deliver({ url: p.url, secret: p.secret, id: action.key, body, ...(p.headers ? { headers: p.headers } : {}) }, ctx);
    },
  };
}
