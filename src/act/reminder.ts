/**
 * `reminder.schedule`: a warranty or service reminder at a future time. The durable timer is the
 * outbox itself: the runner enqueues the action with `notBeforeMs` = the due time (the executor's
 * `dispatchAt`), so it survives restarts, is claimed once it is due and, keyed by (run, step),
 * exists once. When it is due it appends a `reminder.due` event (id = the action key, time = the
 * due time) that workflows trigger on to deliver it — by email, webhook, on-site — with the contact
 * policy, conditions and state checked *then*, not months earlier (docs/act/actions.md).
 */
import { isoTime } from '../core/index.ts';
import { workflowSource } from './emit.ts';
import { RetryAfterError } from './errors.ts';
import { type Check, type CheckCtx, duration, type Field, isTemplated, obj, parseDuration, requireValid, str, validate } from './params.ts';
import type { ActionExecutor } from './types.ts';

export const REMINDER_DUE_EVENT = 'reminder.due';

const MAX_AHEAD_MS = 5 * 366 * 86_400_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** An RFC 3339 time with an offset (or a template, before rendering); epoch ms or undefined. */
export function parseRfc3339(v: unknown): number | undefined {
  if (typeof v !== 'string' || !RFC3339.test(v)) return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : undefined;
}

const rfc3339: Check = (v, pointer, ctx) => {
  if (!ctx.rendered && isTemplated(v)) return;
  if (parseRfc3339(v) === undefined) ctx.out.push({ pointer, message: 'must be an RFC 3339 time like 2027-03-01T09:00:00Z' });
};

const REMINDER_FIELDS: Record<string, Field> = {
  at: { check: rfc3339 },
  in: { check: duration(60_000, MAX_AHEAD_MS) },
  kind: { required: true, check: str(100) },
  message: { check: str(2000) },
  subject: { check: str(500) },
  data: { check: obj },
};

const exactlyOneTime = (p: Record<string, unknown>, ctx: CheckCtx) => {
  if ((p.at === undefined || p.at === null) === (p.in === undefined || p.in === null))
    ctx.out.push({ pointer: '', message: 'a reminder needs exactly one of at (a time) or in (a duration)' });
};

/** When a reminder with these (rendered) params, created at `createdAtMs`, is due; undefined when they are invalid. */
export function reminderDueAt(params: Record<string, unknown>, createdAtMs: number): number | undefined {
  if (params.in !== undefined) {
    const ms = typeof params.in === 'string' ? parseDuration(params.in) : undefined;
    return ms === undefined ? undefined : createdAtMs + ms;
  }
  return parseRfc3339(params.at);
}

export function reminderScheduleExecutor(): ActionExecutor {
  return {
    type: 'reminder.schedule',
    // The contact happens when a workflow delivers the `reminder.due` event, checked then on its own channel.
    channel: 'reminder',
    reachesCustomer: false,
    defaultMinutesSaved: 5,
    validateParams: (params) => validate(params, REMINDER_FIELDS, false, exactlyOneTime),
    dispatchAt: (params, createdAtMs) => reminderDueAt(params, createdAtMs),
    async execute(action, ctx) {
      requireValid('reminder.schedule', validate(action.params, REMINDER_FIELDS, true, exactlyOneTime));
      const p = action.params as { kind: string; message?: string; subject?: string; data?: Record<string, unknown> };
      const due = reminderDueAt(action.params, action.createdAtMs) as number;
      const now = ctx.clock.now();
      // Enqueued without its not-before time (by hand, or by an older runner): never early.
      if (due > now) throw new RetryAfterError(`the reminder is due at ${isoTime(due)}`, due - now, { code: 'PW_REMINDER_NOT_DUE' });
      const subject = p.subject ?? action.subject;
      const [outcome] = await ctx.log.append([
        {
          event: {
            specversion: '1.0',
            id: action.key,
            source: workflowSource(action.workflowId),
            type: REMINDER_DUE_EVENT,
            time: isoTime(due),
            ...(subject !== undefined ? { subject } : {}),
            ...(action.customerId !== undefined ? { userid: action.customerId } : {}),
            datacontenttype: 'application/json',
            data: {
              kind: p.kind,
              ...(p.message !== undefined ? { message: p.message } : {}),
              due_at: isoTime(due),
              scheduled_at: isoTime(action.createdAtMs),
              run_id: action.runId,
              workflow_id: action.workflowId,
              ...(p.data !== undefined ? { data: p.data } : {}),
            },
          },
          receivedAt: now,
        },
      ]);
      return {
        detail: { event_id: action.key, due_at: isoTime(due), seq: outcome?.seq ?? null, duplicate: outcome?.status === 'duplicate' },
      };
    },
  };
}
