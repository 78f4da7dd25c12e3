/**
 * Outbound HTTP for webhooks: an undici Agent whose every connection passes the SSRF guard
 * (ssrf.ts), no redirects followed (undici's `request` does not follow them; a 3xx is the
 * answer), the whole exchange capped in time, and at most `maxResponseBytes` of the response
 * read (the rest is dropped with the connection).
 *
 * The time cap is wall-clock time (a network timeout), not the injected Clock.
 */
import { isIP } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import { type Cidr, FORBIDDEN_CODE, forbidden, forbiddenReason, guardedLookup, type Resolver, systemResolver } from './ssrf.ts';

export interface OutboundOptions {
  /** `PITWALL_WEBHOOK_ALLOW`: ranges let through the guard. */
  allow: readonly Cidr[];
  /** Name resolution; tests inject answers (e.g. ones that change between lookups). */
  resolve?: Resolver;
  /** The whole request: connect, send, headers and the capped body. Default 10 s. */
  timeoutMs?: number;
  /** Response bytes read at most. Default 64 KiB. */
  maxResponseBytes?: number;
}

export interface PostResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first bytes of the body, for the stored result and dead-letter diagnostics. */
  snippet: string;
  bytes: number;
  truncated: boolean;
}

const SNIPPET = 300;

/** Code of a failed exchange: retriable unless the guard refused it. */
export class OutboundError extends Error {
  constructor(
    message: string,
    readonly code: 'PW_WEBHOOK_TIMEOUT' | 'PW_WEBHOOK_UNREACHABLE',
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'OutboundError';
  }
}

function findForbidden(e: unknown): Error | undefined {
  for (let x: unknown = e, i = 0; x instanceof Error && i < 8; x = (x as { cause?: unknown }).cause, i++)
    if ((x as { code?: unknown }).code === FORBIDDEN_CODE) return x;
  return undefined;
}

/**
 * Checks 1 and 3 around a connector: an IP-literal host is judged before connecting, and the
 * connected socket's remote address before a byte is sent (whatever led there).
 */
export function guardConnector(base: buildConnector.connector, allow: readonly Cidr[]): buildConnector.connector {
  return (o, callback) => {
    const host = o.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const r = forbiddenReason(host, allow);
      if (r) {
        callback(forbidden(host, host, r), null);
        return;
      }
    }
    base(o, (err, socket) => {
      if (err !== null) {
        callback(err, null);
        return;
      }
      const remote = socket.remoteAddress;
      const r = remote === undefined ? 'the socket has no remote address' : forbiddenReason(remote, allow);
      if (r) {
        socket.destroy();
        callback(forbidden(host, remote ?? '?', r), null);
        return;
      }
      callback(null, socket);
    });
  };
}

/** Requests in flight at once (over all receivers), each on its own connection. */
const CONNECTIONS = 64;

export class OutboundHttp {
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(opts: OutboundOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxBytes = opts.maxResponseBytes ?? 65_536;
    const allow = opts.allow;
    const base = buildConnector({ lookup: guardedLookup(opts.resolve ?? systemResolver, allow), timeout: this.timeoutMs });
    const connect = guardConnector(base, allow);
    this.agent = new Agent({ connect, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs, connections: CONNECTIONS });
  }

  private active = 0;
  private readonly waiting: (() => void)[] = [];

  /**
   * At most CONNECTIONS requests at once; the rest wait here, before their time limit starts, so
   * a request that waited for a connection is not timed out before it was ever sent.
   */
  private async slot(): Promise<() => void> {
    if (this.active >= CONNECTIONS) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    return () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  /** POSTs `body`; resolves with whatever status came back, rejects when no answer came. */
  async post(url: URL, headers: Record<string, string>, body: string): Promise<PostResult> {
    const release = await this.slot();
    try {
      return await this.send(url, headers, body);
    } finally {
      release();
    }
  }

  private async send(url: URL, headers: Record<string, string>, body: string): Promise<PostResult> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await request(url, { method: 'POST', headers, body, dispatcher: this.agent, signal });
      const chunks: Buffer[] = [];
      let kept = 0;
      let bytes = 0;
      let truncated = false;
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (kept < SNIPPET) {
            chunks.push(chunk.subarray(0, SNIPPET - kept));
            kept += Math.min(chunk.length, SNIPPET - kept);
          }
          if (bytes > this.maxBytes) {
            truncated = true;
            break; // leaving the loop destroys the body and its connection
          }
        }
      } catch {
        // The status has arrived, so the receiver has answered; a body that stalls or breaks is only cut short.
        truncated = true;
      }
      return { status: res.statusCode, headers: res.headers, snippet: Buffer.concat(chunks).toString('utf8'), bytes, truncated };
    } catch (e) {
      const refused = findForbidden(e);
      if (refused) throw refused;
      if (
        signal.aborted ||
        (e as { code?: unknown }).code === 'UND_ERR_HEADERS_TIMEOUT' ||
        (e as { code?: unknown }).code === 'UND_ERR_BODY_TIMEOUT'
      )
        throw new OutboundError(`no complete answer from ${url.host} within ${this.timeoutMs} ms`, 'PW_WEBHOOK_TIMEOUT', e);
      const code = (e as { code?: unknown }).code;
      throw new OutboundError(
        `cannot reach ${url.host}: ${typeof code === 'string' ? `${code} ` : ''}${(e as Error).message}`,
        'PW_WEBHOOK_UNREACHABLE',
        e,
      );
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
