/** The built-in executors, wired to one guarded HTTP client and one SMTP transport. */
import { alertExecutor } from './alert.ts';
import { checkoutOfferExecutor, storefrontMessageExecutor, surveyShowExecutor } from './directives.ts';
import { emailExecutor, Mailer } from './email.ts';
import { type EventValidator, emitExecutor } from './emit.ts';
import { OutboundHttp } from './outbound.ts';
import { recommendExecutor } from './recommend.ts';
import { reminderScheduleExecutor } from './reminder.ts';
import type { ActSettings } from './settings.ts';
import type { Resolver } from './ssrf.ts';
import type { ActionExecutor } from './types.ts';
import { WebhookSender, webhookExecutor } from './webhook.ts';

export interface BuiltInOptions {
  /** Name resolution for webhooks (tests inject answers). */
  resolve?: Resolver;
  /** Checks `emit` events against the schema registry. */
  validator?: EventValidator;
  /** Whole-request cap for webhooks (wall-clock ms); default 10 s. */
  webhookTimeoutMs?: number;
  /** Response bytes read at most; default 64 KiB. */
  maxResponseBytes?: number;
}

/**
 * `webhook.send`, `email.send`, `alert`, `emit`, `survey.show`, `checkout.offer`,
 * `storefront.message`, `reminder.schedule`, `recommend`. Close them (each `close()`) when the process stops.
 */
export function builtInExecutors(settings: ActSettings, opts: BuiltInOptions = {}): ActionExecutor[] {
  const http = new OutboundHttp({
    allow: settings.webhookAllow,
    ...(opts.resolve ? { resolve: opts.resolve } : {}),
    ...(opts.webhookTimeoutMs !== undefined ? { timeoutMs: opts.webhookTimeoutMs } : {}),
    ...(opts.maxResponseBytes !== undefined ? { maxResponseBytes: opts.maxResponseBytes } : {}),
  });
  const sender = new WebhookSender(http, settings.webhookAllow);
  const mailer = new Mailer({ smtpUrl: settings.smtpUrl, from: settings.mailFrom });
  return [
    { ...webhookExecutor(sender), close: () => http.close() },
    { ...emailExecutor(mailer), close: () => mailer.close() },
    alertExecutor(sender, mailer),
    emitExecutor(opts.validator ? { validator: opts.validator } : {}),
    surveyShowExecutor(),
    checkoutOfferExecutor(),
    storefrontMessageExecutor(),
    reminderScheduleExecutor(),
    recommendExecutor(),
  ];
}
