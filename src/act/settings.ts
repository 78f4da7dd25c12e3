/** Act's settings from the environment (or the config file's values under the same names). */
import { addressOf } from './email.ts';
import { type Cidr, parseAllowList } from './ssrf.ts';

export interface ActSettings {
  /** `PITWALL_WEBHOOK_ALLOW`: ranges the SSRF guard lets through (default none). */
  webhookAllow: Cidr[];
  /** The same, as written, for start-up banners and docs. */
  webhookAllowText: string;
  /** `PITWALL_SMTP_URL`: smtp:// or smtps://, with credentials if the server wants them. */
  smtpUrl: string | undefined;
  /** `PITWALL_MAIL_FROM`: the sender, `Name <address>` or an address. */
  mailFrom: string | undefined;
}

/** Reads and checks the settings; `problems` has one line per bad value, naming the variable. */
export function parseActSettings(env: Record<string, string | undefined>): { settings: ActSettings; problems: string[] } {
  const problems: string[] = [];
  const allowText = (env.PITWALL_WEBHOOK_ALLOW ?? '').trim();
  const allow = parseAllowList(allowText);
  for (const p of allow.problems) problems.push(`PITWALL_WEBHOOK_ALLOW: ${p}`);
  const smtpUrl = env.PITWALL_SMTP_URL?.trim() || undefined;
  if (smtpUrl !== undefined) {
    let ok = false;
    try {
      const u = new URL(smtpUrl);
      ok = (u.protocol === 'smtp:' || u.protocol === 'smtps:') && u.hostname !== '';
    } catch {
      ok = false;
    }
    if (!ok) problems.push('PITWALL_SMTP_URL must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587');
  }
  const mailFrom = env.PITWALL_MAIL_FROM?.trim() || undefined;
  if (mailFrom !== undefined && addressOf(mailFrom) === undefined)
    problems.push(`PITWALL_MAIL_FROM="${mailFrom}" must be an address or Name <address>`);
  if (smtpUrl !== undefined && mailFrom === undefined)
    problems.push('PITWALL_SMTP_URL is set but PITWALL_MAIL_FROM is not: name the sender');
  return { settings: { webhookAllow: allow.cidrs, webhookAllowText: allowText, smtpUrl, mailFrom }, problems };
}
