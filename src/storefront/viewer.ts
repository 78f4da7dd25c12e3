/**
 * Who is asking, and what they may learn (ADR 0018). A server-side key (`pw_…`, `read`) is trusted:
 * the ids it names are the shop's own, and it gets the full answer. A publishable key is a browser:
 * its ids count only when proven (a `userId` with a valid `userHash`; an anonymous id only as
 * itself, never resolved to another customer), and its answer leaves out what a browser must not
 * learn — run ids and workflow internals, offer codes not meant for it, exact stock counts.
 */
import type { Directive } from '../act/index.ts';
import type { Why } from './directives.ts';
import type { IdentityCheck } from './identity.ts';

/** The identity status a decision reports: `server` (a secret key), else a publishable key's check. */
export type IdentityStatus = 'server' | IdentityCheck['status'];

export type Viewer =
  | { kind: 'server' }
  | {
      kind: 'browser';
      identity: IdentityCheck;
      /** The request's anonymous id: the widget holds it, so data scoped to exactly it is served. */
      anonymousId: string | undefined;
    };

export const SERVER_VIEWER: Viewer = { kind: 'server' };

/** What a publishable key's answers include (`storefront.publishable` in the config file). */
export interface BrowserViewSettings {
  /** `bands` (default): in stock / low / out per warehouse; `exact`: the counts, as a secret key gets them. */
  stock: 'bands' | 'exact';
  /** Available units at or below which a SKU (or a warehouse) is `low`. */
  lowStockAt: number;
}

export const DEFAULT_BROWSER_VIEW: BrowserViewSettings = { stock: 'bands', lowStockAt: 5 };

export type StockBand = 'in_stock' | 'low' | 'out';

export function stockBand(available: number, lowStockAt: number): StockBand {
  return available <= 0 ? 'out' : available <= lowStockAt ? 'low' : 'in_stock';
}

/** A directive's why as a browser sees it: the workflow and the signal; no run, directive key or rule internals. */
export function browserWhy(w: Why): Why {
  return {
    workflow: w.workflow,
    run: null,
    signal: w.signal,
    ...(w.rule !== undefined ? { rule: w.rule.replace(/, audience .*$/, '') } : {}),
  };
}

/** The why as this viewer sees it. */
export function whyFor(viewer: Viewer, w: Why): Why {
  return viewer.kind === 'server' ? w : browserWhy(w);
}

/**
 * Whether an offer's discount code may go to this viewer: always for a secret key; for a browser
 * only when the directive is addressed to it — its customer is the proven principal, or its cart
 * is the cart the principal owns. A broadcast offer (no customer, no cart) keeps its code back.
 */
export function codeVisible(viewer: Viewer, dv: Directive, principal: string | undefined, ownedCartId: string | undefined): boolean {
  if (viewer.kind === 'server') return true;
  if (dv.customerId !== undefined && principal !== undefined && dv.customerId === principal) return true;
  return dv.cartId !== undefined && ownedCartId !== undefined && dv.cartId === ownedCartId;
}
