/**
 * Shopper events to Pitwall's Segment-compatible endpoints, the way analytics.js sends them:
 * a JSON body with the write key, as text/plain (no CORS preflight).
 */
import { shopper } from './cart.ts';

function writeKey(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="pitwall-write-key"]')?.content ?? '';
}

/** Sends one call; resolves when it was answered or failed (never rejects). */
function send(kind: 'track' | 'identify' | 'page', body: Record<string, unknown>): Promise<void> {
  const key = writeKey();
  if (!key) return Promise.resolve();
  const who = shopper();
  const payload = {
    ...body,
    ...who,
    writeKey: key,
    messageId: `shop-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
    timestamp: new Date().toISOString(),
    context: { page: { url: location.href, path: location.pathname, title: document.title }, userAgent: navigator.userAgent },
  };
  return fetch(`/v1/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(payload),
    keepalive: true,
  }).then(
    () => undefined,
    () => undefined,
  );
}

/** Waits for `p`, at most `ms`: before leaving a page, so its last event is not cut off. */
export const flush = (p: Promise<void>, ms = 1000) => Promise.race([p, new Promise<void>((r) => setTimeout(r, ms))]);

export const track = (event: string, properties: Record<string, unknown>) => send('track', { event, properties });
export const page = (name: string) => send('page', { name, properties: { url: location.href, path: location.pathname } });
export const identify = (userId: string) => send('identify', { userId });
