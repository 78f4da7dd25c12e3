/**
 * Match keys for fitment: how a make, model or engine written by a retailer's feed and one
 * typed by a customer (or read from a VIN decoder) are compared. Stored beside the original.
 */

/** Well-known short names that would otherwise never match the full make. */
const MAKE_ALIASES: Record<string, string> = {
  vw: 'volkswagen',
  chevy: 'chevrolet',
  mercedes: 'mercedesbenz',
};

function fold(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** Letters and digits only: `Mercedes-Benz` → `mercedesbenz`, `Citroën` → `citroen`. */
export function makeKey(make: string): string {
  const k = fold(make).replace(/[^a-z0-9]/g, '');
  return Object.hasOwn(MAKE_ALIASES, k) ? (MAKE_ALIASES[k] as string) : k;
}

/** Letters and digits only: `F-150`, `f 150` and `F150` are one model. */
export function modelKey(model: string): string {
  return fold(model).replace(/[^a-z0-9]/g, '');
}

/**
 * Letters, digits and the decimal point, with a litre suffix dropped: `3.5L V6`, `3.5 l v6`
 * and `3,5 V6` → `3.5v6`. An entry's engine fits a vehicle whose engine key starts with it.
 */
export function engineKey(engine: string): string {
  return fold(engine)
    .replace(/(\d),(\d)/g, '$1.$2')
    .replace(/(\d(?:\.\d+)?)\s*l(?![a-z])/g, '$1')
    .replace(/[^a-z0-9.]/g, '');
}
