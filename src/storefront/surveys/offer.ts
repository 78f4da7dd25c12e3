/**
 * Which survey a decision offers (docs/storefront.md "Which survey a decision offers"): a workflow's
 * `survey.show` directive, else an automatic placement whose audience matches and the contact policy
 * allows; with a signed token.
 */
import type { Kysely } from 'kysely';
import type { Directive } from '../../act/index.ts';
import { type ContactPolicySettings, checkContact } from '../../automate/index.ts';
import type { Clock } from '../../core/index.ts';
import type { Cart } from '../../state/index.ts';
import type { Database } from '../../store/index.ts';
import { directiveWhy } from '../directives.ts';
import { compileAudience } from './audience.ts';
import type { PlacementType } from './definition.ts';
import type { SurveyStore } from './store.ts';
import type { SurveyTokens } from './token.ts';

export interface SurveyOfferDeps {
  db: Kysely<Database>;
  clock: Clock;
  surveys: SurveyStore;
  tokens: SurveyTokens;
  policy: ContactPolicySettings;
  /** How long a survey token is valid (ms). */
  tokenTtlMs: number;
}

/** The customer as an audience sees it (undefined id: nobody to offer an automatic survey to). */
export interface SurveyAudience {
  id: string | undefined;
  known: boolean;
  vehicles: readonly unknown[];
  orders: number;
}

export async function offerSurvey(
  d: SurveyOfferDeps,
  directives: Directive[],
  who: SurveyAudience,
  at: {
    placement: PlacementType | 'page';
    pageType: string;
    pageUrl: string | undefined;
    region: string | undefined;
    store: string | undefined;
    cart: Cart | undefined;
  },
) {
  const now = d.clock.now();
  const all = await d.surveys.all();
  // 1. A workflow asked for it (survey.show): already passed the contact policy when it ran.
  const asked = directives.filter((dv) => dv.type === 'survey.show' && all.has(String(dv.payload.survey)));
  const placementOf = (dv: Directive): PlacementType => {
    const p = String(dv.payload.placement ?? 'next_page_view');
    return p === 'exit_intent' ? 'exit_intent' : p === 'post_purchase' ? 'post_purchase' : 'page';
  };
  const dv = asked.find((x) => placementOf(x) === at.placement) ?? asked[0];
  if (dv !== undefined) {
    const id = String(dv.payload.survey);
    const placement = placementOf(dv);
    const { token } = await d.tokens.sign({
      s: id,
      ...(who.id !== undefined ? { c: who.id } : {}),
      ...(dv.cartId !== undefined ? { cart: dv.cartId } : at.cart ? { cart: at.cart.cartId } : {}),
      p: placement,
      e: Math.min(dv.expiresAtMs, now + d.tokenTtlMs),
      d: dv.key,
    });
    return { id, placement, token, why: await directiveWhy(d.db, d.clock, dv) };
  }
  // 2. A survey with an automatic placement whose audience matches, if the contact policy allows.
  if (who.id === undefined) return null;
  for (const s of all.values()) {
    const def = s.definition;
    const pl = def.placements.find(
      (p) =>
        p.auto === true &&
        p.type === at.placement &&
        (p.pageTypes === undefined || p.pageTypes.length === 0 || p.pageTypes.includes(at.pageType)),
    );
    if (pl === undefined) continue;
    if (def.audience !== undefined) {
      const c = compileAudience(def.audience);
      const facts = {
        page_type: at.pageType,
        page_url: at.pageUrl ?? '',
        placement: at.placement,
        region: at.region ?? '',
        store: at.store ?? '',
        customer_known: who.known,
        customer_vehicles: who.vehicles.length,
        customer_orders: who.orders,
        cart_value: at.cart?.value ?? 0,
      };
      if (!c.ok || !c.matches(facts)) continue;
    }
    const verdict = await checkContact(d.db, d.policy, {
      customerId: who.id,
      channel: 'survey',
      purpose: def.purpose ?? 'service',
      workflowId: 'storefront',
      atMs: now,
    });
    if (verdict.verdict !== 'allow') continue;
    const { token } = await d.tokens.sign({
      s: def.id,
      c: who.id,
      ...(at.cart ? { cart: at.cart.cartId } : {}),
      p: pl.type,
      e: now + d.tokenTtlMs,
    });
    return {
      id: def.id,
      placement: pl.type,
      token,
      why: {
        workflow: null,
        run: null,
        signal: null,
        rule: `survey ${def.id}: automatic ${pl.type} placement${def.audience ? `, audience ${def.audience}` : ''}`,
      },
    };
  }
  return null;
}
