/**
 * `alert`: an operations alert, as a signed webhook (`{"type": "pitwall.alert", …}`) or an
 * email to the operations team. It never reaches a customer, so the contact policy does not
 * apply (channel `ops`).
 */
import { isoTime } from '../core/index.ts';
import type { Mailer } from './email.ts';
import { checkObject, emailList, type Field, httpUrl, obj, oneOf, requireValid, str, validate } from './params.ts';
import type { ActionExecutor } from './types.ts';
import { secretName, type WebhookSender } from './webhook.ts';

const WEBHOOK_TARGET: Record<string, Field> = { url: { required: true, check: httpUrl }, secret: { required: true, check: secretName } };
const EMAIL_TARGET: Record<string, Field> = { to: { required: true, check: emailList } };

const ALERT_FIELDS: Record<string, Field> = {
  summary: { required: true, check: str(500) },
  severity: { check: oneOf(['info', 'warning', 'critical']) },
  details: { check: obj },
  webhook: { check: (v, pointer, ctx) => void checkObject(v, WEBHOOK_TARGET, ctx, pointer) },
  email: { check: (v, pointer, ctx) => void checkObject(v, EMAIL_TARGET, ctx, pointer) },
};

const oneTarget = (p: Record<string, unknown>, ctx: { out: { pointer: string; message: string }[] }) => {
  if ((p.webhook === undefined) === (p.email === undefined))
    ctx.out.push({ pointer: '', message: 'an alert goes to exactly one of webhook or email' });
};

interface AlertParams {
  summary: string;
  severity?: string;
  details?: Record<string, unknown>;
  webhook?: { url: string; secret: string };
  email?: { to: string | string[] };
}

export function alertExecutor(sender: WebhookSender, mailer: Mailer): ActionExecutor {
  return {
    type: 'alert',
    channel: 'ops',
    reachesCustomer: false,
    defaultMinutesSaved: 2,
    validateParams: (params) => validate(params, ALERT_FIELDS, false, oneTarget),
    async execute(action, ctx) {
      requireValid('alert', validate(action.params, ALERT_FIELDS, true, oneTarget));
      const p = action.params as unknown as AlertParams;
      const severity = p.severity ?? 'warning';
      const about = {
        workflow_id: action.workflowId,
        run_id: action.runId,
        ...(action.subject !== undefined ? { subject: action.subject } : {}),
      };
      if (p.webhook) {
        const body = JSON.stringify({
          type: 'pitwall.alert',
          timestamp: isoTime(action.createdAtMs),
          data: { severity, summary: p.summary, details: p.details ?? {}, ...about },
        });
        return sender.deliver({ url: p.webhook.url, secret: p.webhook.secret, id: action.key, body }, ctx);
      }
      const to = p.email?.to ?? [];
      const lines = [p.summary, '', `severity: ${severity}`, `workflow: ${action.workflowId} (run ${action.runId})`];
      if (action.subject !== undefined) lines.push(`about: ${action.subject}`);
      for (const [k, v] of Object.entries(p.details ?? {})) lines.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
      return mailer.send({
        to: Array.isArray(to) ? to : [to],
        subject: `[Pitwall ${severity}] ${p.summary}`.replace(/[\r\n]+/g, ' '),
        text: `${lines.join('\n')}\n`,
        id: action.key,
        headers: { 'X-Pitwall-Workflow': action.workflowId },
      });
    },
  };
}
