/**
 * `emit`: appends a custom event to the log. Its id is the action key and its source
 * `pitwall:workflow/<id>`, so a retry is deduped by the log and the event lands once. The
 * event time is when the action was created (the same on every attempt).
 */
import { isoTime } from '../core/index.ts';
import { type CloudEvent, EVENT_TYPE_PATTERN } from '../events/index.ts';
import { NonRetriableError } from './errors.ts';
import { type Field, obj, requireValid, str, validate } from './params.ts';
import type { ActionExecutor } from './types.ts';

/** The registry's check, when the caller has one (the process that ingests). */
export interface EventValidator {
  validate(e: CloudEvent): { code: string; message: string; pointer?: string } | undefined;
}

export function workflowSource(workflowId: string): string {
  return `pitwall:workflow/${workflowId}`;
}

const EMIT_FIELDS: Record<string, Field> = {
  type: {
    required: true,
    check: (v, pointer, ctx) => {
      if (typeof v !== 'string' || !EVENT_TYPE_PATTERN.test(v))
        ctx.out.push({ pointer, message: 'must be an event type like workflow.reorder_suggested (lowercase, dotted)' });
    },
  },
  data: { check: obj },
  subject: { check: str(500) },
};

export function emitExecutor(opts: { validator?: EventValidator } = {}): ActionExecutor {
  return {
    type: 'emit',
    channel: 'internal',
    reachesCustomer: false,
    defaultMinutesSaved: 0,
    validateParams: (params) => validate(params, EMIT_FIELDS, false),
    async execute(action, ctx) {
      requireValid('emit', validate(action.params, EMIT_FIELDS, true));
      const p = action.params as { type: string; data?: Record<string, unknown>; subject?: string };
      const event: CloudEvent = {
        specversion: '1.0',
        id: action.key,
        source: workflowSource(action.workflowId),
        type: p.type,
        time: isoTime(action.createdAtMs),
        ...(p.subject !== undefined ? { subject: p.subject } : action.subject !== undefined ? { subject: action.subject } : {}),
        ...(action.customerId !== undefined ? { userid: action.customerId } : {}),
        datacontenttype: 'application/json',
        data: p.data ?? {},
      };
      const problem = opts.validator?.validate(event);
      if (problem)
        throw new NonRetriableError(`the event to emit is invalid: ${problem.message}${problem.pointer ? ` at ${problem.pointer}` : ''}`, {
          code: 'PW_ACTION_EMIT_INVALID',
        });
      const [outcome] = await ctx.log.append([{ event, receivedAt: ctx.clock.now() }]);
      return { detail: { event_id: event.id, seq: outcome?.seq ?? null, duplicate: outcome?.status === 'duplicate' } };
    },
  };
}
