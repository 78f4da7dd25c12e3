/**
 * The Pitwall widget (`/widget.js`): configured by its own script tag's `data-` attributes,
 * driven by the `window.pitwall` command queue, it asks the decision API about the page, hands
 * each answer to the host page (`onDecision`) and shows the survey it carries — on exit intent,
 * or at once for other placements. Every entry point is guarded: it never throws into the host
 * page, and when Pitwall cannot be reached it does nothing at all.
 *
 * Attributes: data-key (publishable key, required), data-store, data-locale, data-api (Pitwall's
 * origin; default: where the script came from), data-anonymous-id, data-user-id, data-user-hash
 * (the shop server's HMAC of the user id; without it the user id is not believed), data-region,
 * data-postal-code, data-exit-sensitivity (px from the top, default 20), data-min-time (seconds
 * on the page before exit intent counts, default 3), data-scroll-speed (px/ms, default 1.5).
 */
import { type Api, api } from './api.ts';
import { armExitIntent } from './exit-intent.ts';
import { anonymousId, rememberSurvey, surveyClosed } from './storage.ts';
import { openSurvey } from './survey.ts';
import type { Answer, Decision, PageContext, SurveyDefinition, SurveyOffer } from './types.ts';

type DecisionListener = (d: Decision) => void;

const MARK = '__pitwallWidget';

function guard(fn: () => void): void {
  try {
    fn();
  } catch {
    // never into the host page
  }
}

/** Runs async work in the background; a failure stays inside the widget. */
function bg(p: Promise<unknown>): void {
  p.catch(() => undefined);
}

function num(v: string | undefined, fallback: number): number {
  const n = v === undefined || v.trim() === '' ? Number.NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

function findScript(): HTMLScriptElement | null {
  const cur = document.currentScript;
  if (cur instanceof HTMLScriptElement && cur.dataset.key) return cur;
  return document.querySelector<HTMLScriptElement>('script[src*="widget.js"][data-key]');
}

class Widget {
  private page: PageContext = {};
  private readonly customer: { userId?: string; userHash?: string; anonymousId: string };
  private readonly listeners: DecisionListener[] = [];
  private last: Decision | undefined;
  private offer: SurveyOffer | undefined;
  private readonly wanted = new Set<string>();
  private disarm: (() => void) | undefined;
  private showing = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly http: Api,
    private readonly base: string,
    private readonly data: DOMStringMap,
  ) {
    this.customer = { anonymousId: anonymousId(data.anonymousId) };
    if (data.userId) this.customer.userId = data.userId;
    if (data.userId && data.userHash) this.customer.userHash = data.userHash;
  }

  handle(cmd: unknown): void {
    if (!Array.isArray(cmd) || typeof cmd[0] !== 'string') return;
    const [name, arg] = cmd as [string, unknown];
    if (name === 'page' && arg && typeof arg === 'object') {
      this.page = { ...(arg as PageContext) };
      bg(this.decide());
    } else if (name === 'identify' && arg && typeof arg === 'object') {
      const { userId, userHash } = arg as { userId?: unknown; userHash?: unknown };
      if (typeof userId === 'string' && userId) {
        this.customer.userId = userId;
        if (typeof userHash === 'string' && userHash) this.customer.userHash = userHash;
        else delete this.customer.userHash;
      }
    } else if (name === 'showSurvey' && typeof arg === 'string') {
      if (this.offer?.id === arg) bg(this.show(this.offer));
      else this.wanted.add(arg);
    } else if (name === 'onDecision' && typeof arg === 'function') {
      const fn = arg as DecisionListener;
      this.listeners.push(fn);
      if (this.last) {
        const d = this.last;
        guard(() => fn(d));
      }
    }
  }

  private where() {
    const region = this.page.region ?? this.data.region;
    const postalCode = this.page.postalCode ?? this.data.postalCode;
    return {
      customer: this.customer,
      ...(this.data.store ? { store: this.data.store } : {}),
      ...(region ? { region } : {}),
      ...(postalCode ? { postalCode } : {}),
    };
  }

  private async decide(): Promise<void> {
    const p = this.page;
    const skus = (p.skus ?? []).filter((s) => typeof s === 'string' && s).slice(0, 50);
    let d: Decision | undefined;
    if ((p.type === 'checkout' || p.type === 'cart') && p.cartId) {
      d = await this.http.post<Decision>('/v1/decide/checkout', { cartId: p.cartId, ...this.where() });
    } else if (skus.length > 0) {
      d = await this.http.post<Decision>('/v1/decide/product', {
        skus,
        ...this.where(),
        placement: p.type === 'confirmation' ? 'post_purchase' : 'exit_intent',
        page: { url: location.href, ...(p.type ? { type: p.type } : {}) },
      });
    }
    if (!d || typeof d !== 'object') return;
    this.last = d;
    for (const fn of this.listeners) guard(() => fn(d));
    const s = d.survey;
    if (s && typeof s.id === 'string' && typeof s.token === 'string') this.consider(s);
  }

  private consider(offer: SurveyOffer): void {
    if (surveyClosed(offer.id) || this.showing) return;
    this.offer = offer;
    this.disarm?.();
    this.disarm = undefined;
    if (this.wanted.has(offer.id) || offer.placement !== 'exit_intent') {
      bg(this.show(offer));
      return;
    }
    this.disarm = armExitIntent(
      {
        sensitivityPx: num(this.data.exitSensitivity, 20),
        minTimeMs: num(this.data.minTime, 3) * 1000,
        scrollSpeed: num(this.data.scrollSpeed, 1.5),
        startedAt: this.startedAt,
      },
      () => bg(this.show(offer)),
    );
  }

  private async show(offer: SurveyOffer): Promise<void> {
    if (this.showing || surveyClosed(offer.id)) return;
    this.showing = true;
    this.disarm?.();
    this.disarm = undefined;
    const locale = this.data.locale || document.documentElement.lang || '';
    const def = await this.http.get<SurveyDefinition>(
      `/v1/surveys/${encodeURIComponent(offer.id)}${locale ? `?locale=${encodeURIComponent(locale)}` : ''}`,
    );
    if (!def || !Array.isArray(def.questions) || def.questions.length === 0) {
      this.showing = false;
      return;
    }
    const path = `/v1/surveys/${encodeURIComponent(offer.id)}`;
    const context = () => {
      const p = this.page;
      const sku = p.skus?.[0];
      return {
        url: location.href,
        ...(p.cartId ? { cartId: p.cartId } : {}),
        ...(p.orderId ? { orderId: p.orderId } : {}),
        ...(sku ? { sku } : {}),
      };
    };
    const respond = (answers: Answer[], dismissed: boolean) =>
      void this.http.post(`${path}/responses`, {
        token: offer.token,
        answers,
        context: context(),
        ...(dismissed ? { dismissed: true } : {}),
      });
    openSurvey(def, `${this.base}/widget.css`, {
      shown: () => void this.http.post(`${path}/impressions`, { token: offer.token }),
      completed: (answers) => {
        rememberSurvey(offer.id, 'completed');
        respond(answers, false);
      },
      dismissed: (answers) => {
        rememberSurvey(offer.id, 'dismissed');
        respond(answers, true);
      },
    });
  }
}

guard(() => {
  const w = window as unknown as Record<string, unknown>;
  if (w[MARK]) return;
  const script = findScript();
  const key = script?.dataset.key;
  if (!script || !key || typeof fetch !== 'function') return;
  w[MARK] = true;
  const base = (script.dataset.api || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  const widget = new Widget(api(base, key), base, script.dataset);
  const queued = Array.isArray(w.pitwall) ? (w.pitwall as unknown[]) : [];
  w.pitwall = {
    push: (...cmds: unknown[]) => {
      for (const c of cmds) guard(() => widget.handle(c));
      return 0;
    },
  };
  for (const c of queued) guard(() => widget.handle(c));
});
