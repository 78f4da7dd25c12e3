/** Rendering what Pitwall's decision API answered: availability, promises, fitment, messages, shipping options, offers. */
import { h } from '../../widget/dom.ts';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj).filter((x): x is Obj => x !== undefined) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export const money = (n: number, currency = 'EUR') => {
  try {
    return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(n);
  } catch {
    return `${n.toFixed(2)} ${currency}`;
  }
};

const day = (s: string | undefined) => {
  if (!s) return undefined;
  const d = new Date(s.length === 10 ? `${s}T12:00:00Z` : s);
  return Number.isNaN(d.getTime()) ? undefined : d.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
};

/** "Arrives Tue 1 Dec – Thu 3 Dec" from a p50/p90 pair. */
export function windowText(p50: unknown, p90: unknown): string | undefined {
  const a = day(str(p50));
  const b = day(str(p90));
  if (!a) return undefined;
  return b && b !== a ? `Arrives ${a} – ${b}` : `Arrives ${a}`;
}

/** The product of a decide answer, by SKU. */
export function decidedProduct(decision: unknown, sku: string): Obj | undefined {
  return arr(obj(decision)?.products).find((p) => p.sku === sku);
}

export function availabilityBadge(p: Obj | undefined): HTMLElement | null {
  if (!p) return null;
  if (p.known === false) return h('span', { class: 'badge no' }, 'Not sold here');
  const a = obj(p.availability);
  if (!a) return null;
  if (a.band === 'low') return h('span', { class: 'badge warn' }, 'Only a few left');
  if (a.inStock === true) return h('span', { class: 'badge' }, `In stock${num(a.total) !== undefined ? ` (${a.total})` : ''}`);
  return h('span', { class: 'badge no' }, 'Out of stock');
}

const BANDS: Record<string, string> = { in_stock: 'In stock', low: 'Only a few left', out: 'Out of stock' };

/** A warehouse's stock as the answer gives it: a count (secret keys, or `stock: exact`) or a band (publishable keys). */
function stockText(w: Obj): string {
  const n = num(w.onHand);
  if (n !== undefined) return String(n);
  return BANDS[str(w.band) ?? ''] ?? '—';
}

function etaText(w: Obj): string {
  const eta = obj(w.eta);
  return (eta ? windowText(eta.p50, eta.p90) : undefined) ?? '—';
}

export function productDecision(p: Obj | undefined): HTMLElement {
  const box = h('div', { class: 'decision', 'data-decision': 'product' });
  if (!p) return box;
  box.append(h('p', {}, availabilityBadge(p)));
  const fit = obj(p.fitment);
  if (fit && str(fit.text)) box.append(h('p', { class: fit.fits === false ? 'fits no' : 'fits' }, str(fit.text)));
  const promise = obj(p.promise);
  const when = promise ? windowText(promise.p50, promise.p90) : undefined;
  if (promise && when) {
    const rel = num(promise.reliability);
    box.append(
      h(
        'p',
        { class: 'promise' },
        h('strong', {}, when),
        str(promise.carrier) ? ` with ${str(promise.carrier)}` : '',
        rel !== undefined ? ` · ${Math.round(rel * 100)}% on time` : '',
      ),
    );
    if (str(promise.note)) box.append(h('p', { class: 'note' }, str(promise.note)));
  }
  const houses = arr(obj(p.availability)?.warehouses);
  if (houses.length > 0) {
    const rows = houses.map((w) => h('tr', {}, h('td', {}, str(w.warehouse) ?? ''), h('td', {}, stockText(w)), h('td', {}, etaText(w))));
    box.append(
      h(
        'table',
        { class: 'stock' },
        h('caption', { class: 'sr-only' }, 'Stock by warehouse'),
        h('thead', {}, h('tr', {}, h('th', {}, 'Warehouse'), h('th', {}, 'Stock'), h('th', {}, 'Delivery from here'))),
        h('tbody', {}, ...rows),
      ),
    );
  }
  box.append(messages(p.messages));
  return box;
}

/** Parts a workflow recommended for the signed-in shopper's vehicle (`recommendations` of a product answer), as links. */
export function recommendations(decision: unknown): HTMLElement | null {
  const list = arr(obj(decision)?.recommendations).filter((r) => str(r.sku));
  if (list.length === 0) return null;
  return h(
    'div',
    { class: 'recommendations', 'data-decision': 'recommendations' },
    h('h2', {}, 'Recommended for your vehicle'),
    h(
      'ul',
      {},
      ...list.map((r) =>
        h(
          'li',
          {},
          h('a', { href: `/demo/shop/product/${encodeURIComponent(str(r.sku) ?? '')}` }, str(r.name) ?? str(r.sku) ?? ''),
          str(r.reason) ? h('span', { class: 'muted' }, ` — ${str(r.reason)}`) : null,
        ),
      ),
    ),
  );
}

export function messages(list: unknown): DocumentFragment {
  const f = document.createDocumentFragment();
  for (const m of arr(list)) if (str(m.text)) f.append(h('p', { class: 'message', role: 'status' }, str(m.text)));
  return f;
}

/** Shipping options (ranked by Pitwall) as a radio group; the recommended one is preselected. */
export function shippingOptions(decision: unknown, currency: string): { el: HTMLElement; chosen: () => string | undefined } {
  const d = obj(decision);
  const options = arr(d?.shippingOptions);
  const offers = arr(d?.offers);
  const fieldset = h('fieldset', { class: 'options', 'data-decision': 'shipping' }, h('legend', {}, h('h2', {}, 'Delivery')));
  const offered = new Set(offers.map((o) => str(o.shipping)).filter(Boolean));
  const recommended = options.find((o) => o.recommended === true) ?? options[0];
  for (const o of options) {
    const id = str(o.id) ?? '';
    const input = h('input', { type: 'radio', name: 'shipping', value: id, checked: o === recommended });
    const rel = num(o.reliability);
    const price = num(o.price);
    const free = offered.has(id);
    fieldset.append(
      h(
        'label',
        { class: o.recommended === true ? 'option recommended' : 'option', 'data-option': id },
        input,
        h(
          'span',
          {},
          h('strong', {}, str(o.label) ?? id),
          o.recommended === true ? h('span', { class: 'badge recommended-badge' }, 'Recommended') : null,
          h('br'),
          h(
            'span',
            { class: 'muted' },
            [windowText(o.p50, o.p90), str(o.carrier), rel !== undefined ? `${Math.round(rel * 100)}% on time` : undefined]
              .filter(Boolean)
              .join(' · '),
          ),
          str(o.note) ? h('span', { class: 'note' }, h('br'), str(o.note)) : null,
        ),
        h('span', { class: 'price' }, free ? 'Free' : price === undefined ? '' : price === 0 ? 'Free' : money(price, currency)),
      ),
    );
  }
  if (options.length === 0) fieldset.append(h('p', { class: 'muted' }, 'Standard delivery (3–5 working days).'));
  for (const o of offers) {
    const text =
      str(o.text) ??
      (str(o.shipping)
        ? `Upgrade to ${str(o.shipping)} delivery at no extra cost`
        : num(o.discountPercent)
          ? `${o.discountPercent}% off this order`
          : undefined);
    if (text) fieldset.append(h('p', { class: 'offer', role: 'status', 'data-offer': str(o.kind) ?? '' }, text));
  }
  fieldset.append(messages(d?.messages));
  return { el: fieldset, chosen: () => fieldset.querySelector<HTMLInputElement>('input:checked')?.value };
}
