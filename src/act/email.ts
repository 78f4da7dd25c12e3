/**
 * `email.send`: one message over SMTP (nodemailer) from templates with variables, text and
 * optionally HTML. The templates (`subject`, `text`, `html`) are rendered here, over `vars`
 * (which the runner renders), so a workflow writes `Hello {{ name }}` once and the HTML part
 * is escaped. The `Message-ID` is `<action key@sender domain>`, the same on every retry, so a
 * repeat after a crash is recognisably the same message.
 *
 * SMTP answers: 2xx done · 4xx retried · 5xx and authentication failures dead (fix, replay) ·
 * connection failures and timeouts retried.
 */
import nodemailer from 'nodemailer';
import { NonRetriableError } from './errors.ts';
import { type CheckCtx, emailList, type Field, isEmailAddress, isTemplated, obj, requireValid, str, validate } from './params.ts';
import { renderTemplate, templateProblems } from './template.ts';
import type { ActionExecutor, ActionResult } from './types.ts';

export interface MailSettings {
  /** `PITWALL_SMTP_URL`, e.g. smtp://user:pass@mail.example.com:587 or smtps://…:465. */
  smtpUrl?: string | undefined;
  /** `PITWALL_MAIL_FROM`, e.g. `Parts Shop <service@example.com>`. */
  from?: string | undefined;
}

export interface MailMessage {
  to: string[];
  from?: string;
  replyTo?: string;
  subject: string;
  text: string;
  html?: string;
  /** Action key: becomes the Message-ID. */
  id: string;
  headers?: Record<string, string>;
}

type Transport = ReturnType<typeof nodemailer.createTransport>;

/** The address inside `Name <addr>` or a bare address. */
export function addressOf(from: string): string | undefined {
  const m = /<([^<>]+)>\s*$/.exec(from);
  const a = (m?.[1] ?? from).trim();
  return isEmailAddress(a) ? a : undefined;
}

/** One SMTP transport for the process, made at first use; shared by `email.send` and `alert`. */
export class Mailer {
  private transport: Transport | undefined;

  constructor(private readonly settings: MailSettings) {}

  async send(m: MailMessage): Promise<ActionResult> {
    const from = m.from ?? this.settings.from;
    if (!this.settings.smtpUrl || !from)
      throw new NonRetriableError('email is not configured: set PITWALL_SMTP_URL and PITWALL_MAIL_FROM, then replay', {
        code: 'PW_EMAIL_NOT_CONFIGURED',
      });
    const domain = addressOf(from)?.split('@')[1] ?? 'pitwall.invalid';
    this.transport ??= nodemailer.createTransport({
      url: this.settings.smtpUrl,
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 30_000,
    });
    try {
      const info = await this.transport.sendMail({
        from,
        to: m.to,
        ...(m.replyTo ? { replyTo: m.replyTo } : {}),
        subject: m.subject,
        text: m.text,
        ...(m.html !== undefined ? { html: m.html } : {}),
        messageId: `<${m.id}@${domain}>`,
        headers: { ...m.headers, 'X-Pitwall-Action': m.id },
      });
      return {
        detail: {
          message_id: info.messageId,
          accepted: info.accepted.length,
          rejected: info.rejected.length,
          response: String(info.response).slice(0, 200),
        },
      };
    } catch (e) {
      throw classify(e);
    }
  }

  async close(): Promise<void> {
    this.transport?.close();
    this.transport = undefined;
  }
}

function classify(e: unknown): Error {
  const err = e as { code?: unknown; responseCode?: unknown; message?: unknown };
  const msg = String(err.message ?? e).slice(0, 500);
  const status = typeof err.responseCode === 'number' ? err.responseCode : undefined;
  if (status !== undefined && status >= 500)
    return new NonRetriableError(`the SMTP server refused the message: ${msg}`, { code: 'PW_EMAIL_REJECTED', cause: e });
  if (err.code === 'EAUTH') return new NonRetriableError(`SMTP authentication failed: ${msg}`, { code: 'PW_EMAIL_REJECTED', cause: e });
  if (status !== undefined)
    return Object.assign(new Error(`the SMTP server deferred the message (${status}): ${msg}`, { cause: e }), {
      code: 'PW_EMAIL_DEFERRED',
    });
  return Object.assign(new Error(`cannot reach the SMTP server: ${msg}`, { cause: e }), { code: 'PW_EMAIL_UNREACHABLE' });
}

/** A template string: syntax checked now, variables at render time. */
const template =
  (max: number): Field['check'] =>
  (v, pointer, ctx) => {
    str(max)(v, pointer, ctx);
    if (typeof v === 'string') for (const p of templateProblems(v)) ctx.out.push({ pointer, message: p });
  };

const mailbox: Field['check'] = (v, pointer, ctx: CheckCtx) => {
  if (!ctx.rendered && isTemplated(v)) return;
  if (typeof v !== 'string' || addressOf(v) === undefined) ctx.out.push({ pointer, message: 'must be an address, or Name <address>' });
};

const EMAIL_FIELDS: Record<string, Field> = {
  to: { required: true, check: emailList },
  subject: { required: true, check: template(500) },
  text: { required: true, check: template(100_000) },
  html: { check: template(500_000) },
  vars: { check: obj },
  from: { check: mailbox },
  replyTo: { check: mailbox },
};

export function emailExecutor(mailer: Mailer): ActionExecutor {
  return {
    type: 'email.send',
    channel: 'email',
    reachesCustomer: true,
    defaultMinutesSaved: 4,
    templateParams: ['subject', 'text', 'html'],
    validateParams: (params) => validate(params, EMAIL_FIELDS, false),
    async execute(action) {
      requireValid('email.send', validate(action.params, EMAIL_FIELDS, true));
      const p = action.params as {
        to: string | string[];
        subject: string;
        text: string;
        html?: string;
        vars?: Record<string, unknown>;
        from?: string;
        replyTo?: string;
      };
      const vars = p.vars ?? {};
      let rendered: { subject: string; text: string; html?: string };
      try {
        rendered = {
          subject: renderTemplate(p.subject, vars, 'header'),
          text: renderTemplate(p.text, vars, 'text'),
          ...(p.html !== undefined ? { html: renderTemplate(p.html, vars, 'html') } : {}),
        };
      } catch (e) {
        throw new NonRetriableError(`email.send template: ${(e as Error).message}`, { code: 'PW_EMAIL_TEMPLATE' });
      }
      return mailer.send({
        to: Array.isArray(p.to) ? p.to : [p.to],
        ...(p.from ? { from: p.from } : {}),
        ...(p.replyTo ? { replyTo: p.replyTo } : {}),
        ...rendered,
        id: action.key,
        headers: { 'X-Pitwall-Workflow': action.workflowId },
      });
    },
  };
}
