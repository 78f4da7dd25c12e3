/**
 * Survey tokens: what a decide answer hands the widget with a survey, and what proves a response
 * is for a survey that customer was shown. `base64url(JSON claims).hmac-sha256`, signed with a
 * secret kept in table `storefront_secrets` (made on first use, shared by every process).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/index.ts';

export interface TokenClaims {
  /** Token id (unique): keys the impression and the response. */
  t: string;
  /** Survey id. */
  s: string;
  /** The canonical customer id, or the anonymous id, when known. */
  c?: string;
  cart?: string;
  order?: string;
  /** Placement: exit_intent | post_purchase | page. */
  p: string;
  /** Expiry (epoch ms). */
  e: number;
  /** The directive that asked for it (a workflow's survey.show), if any. */
  d?: string;
}

export class SurveyTokens {
  private secret: Buffer | undefined;

  constructor(private readonly db: Kysely<Database>) {}

  private async key(): Promise<Buffer> {
    if (this.secret) return this.secret;
    await this.db
      .insertInto('storefront_secrets')
      .values({ name: 'survey-token', value: randomBytes(32).toString('base64url'), created_ms: Date.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await this.db
      .selectFrom('storefront_secrets')
      .select(['value'])
      .where('name', '=', 'survey-token')
      .executeTakeFirstOrThrow();
    this.secret = Buffer.from(row.value, 'base64url');
    return this.secret;
  }

  async sign(claims: Omit<TokenClaims, 't'>): Promise<{ token: string; id: string }> {
    const id = randomBytes(12).toString('base64url');
    const body = Buffer.from(JSON.stringify({ t: id, ...claims })).toString('base64url');
    const mac = createHmac('sha256', await this.key())
      .update(body)
      .digest('base64url');
    return { token: `${body}.${mac}`, id };
  }

  /** The claims, or why the token is not one this server issued for `surveyId` and still valid. */
  async verify(
    token: unknown,
    surveyId: string,
    nowMs: number,
  ): Promise<{ ok: true; claims: TokenClaims } | { ok: false; reason: string }> {
    if (typeof token !== 'string' || token.length > 2000)
      return { ok: false, reason: 'no token: the survey was not shown through a decide answer' };
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) return { ok: false, reason: 'the token is malformed' };
    const want = createHmac('sha256', await this.key())
      .update(body)
      .digest();
    const got = Buffer.from(mac, 'base64url');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'the token was not issued by this server' };
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { ok: false, reason: 'the token is malformed' };
    }
    if (claims.s !== surveyId) return { ok: false, reason: `the token is for survey "${claims.s}", not "${surveyId}"` };
    if (!(claims.e > nowMs)) return { ok: false, reason: 'the token has expired' };
    return { ok: true, claims };
  }
}
