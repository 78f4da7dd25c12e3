/**
 * The CloudEvents HTTP protocol binding (structured, batch and binary modes) → events.
 * https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md
 */
import { AppError, isoTime } from '../../core/index.ts';
import type { CloudEvent } from '../envelope.ts';

export type CloudEventsMode = 'structured' | 'batch' | 'binary';

export function modeOf(contentType: string | undefined, headers: Record<string, unknown>): CloudEventsMode {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.startsWith('application/cloudevents-batch+json')) return 'batch';
  if (ct.startsWith('application/cloudevents+json')) return 'structured';
  if (typeof headers['ce-specversion'] === 'string' || typeof headers['ce-id'] === 'string') return 'binary';
  return 'structured';
}

/** Fills defaults Pitwall applies to every incoming CloudEvent. */
export function normalise(raw: unknown, receivedAt: number, forceHistory: boolean): CloudEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AppError('PW_EVENT_ENVELOPE', 'a CloudEvent must be a JSON object', { pointer: '' });
  }
  const e = { ...(raw as Record<string, unknown>) } as CloudEvent;
  if (e.time === undefined) e.time = isoTime(receivedAt);
  if (forceHistory) e.pitwallhistory = true;
  return e;
}

function decodeHeader(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** Binary mode: attributes from `ce-*` headers, the body is `data`. */
export function fromBinary(headers: Record<string, unknown>, body: unknown, contentType: string | undefined): Record<string, unknown> {
  const e: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('ce-') || typeof value !== 'string') continue;
    const attr = name.slice(3);
    const v = decodeHeader(value);
    e[attr] = attr === 'pitwallhistory' ? v === 'true' : v;
  }
  if (contentType) e.datacontenttype = contentType;
  if (body !== undefined && body !== '') {
    if (Buffer.isBuffer(body)) {
      const text = body.toString('utf8');
      if (/json/i.test(contentType ?? '')) {
        try {
          e.data = JSON.parse(text);
        } catch {
          throw new AppError('PW_BODY_MALFORMED', 'the body is not valid JSON', { status: 400 });
        }
      } else e.data = text;
    } else e.data = body;
  }
  return e;
}
