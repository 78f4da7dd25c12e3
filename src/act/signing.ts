/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${webhook-id}.${webhook-timestamp}.${body}` with the base64-decoded secret, sent as
 * `v1,<base64>`; one signature per valid secret, space-separated, so a receiver that knows
 * either the old or the new secret verifies a message during a rotation.
 */
import { createHmac } from 'node:crypto';
import { NonRetriableError } from './errors.ts';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The key bytes of a `whsec_…` (or bare base64) secret; the spec asks for 24–64 bytes. */
export function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  const key = BASE64.test(b64) && b64.length % 4 === 0 ? Buffer.from(b64, 'base64') : undefined;
  if (!key || key.length < 24 || key.length > 64)
    throw new NonRetriableError(
      'a webhook signing secret must be whsec_ followed by base64 of 24–64 bytes (pitwall secrets set NAME --generate)',
      {
        code: 'PW_WEBHOOK_SECRET_INVALID',
      },
    );
  return key;
}

export function sign(secret: string, id: string, timestampSec: number, body: string): string {
  return `v1,${createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSec}.${body}`).digest('base64')}`;
}

/** The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers for one attempt. */
export function signatureHeaders(secrets: readonly string[], id: string, timestampSec: number, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSec),
    'webhook-signature': secrets.map((s) => sign(s, id, timestampSec, body)).join(' '),
  };
}
