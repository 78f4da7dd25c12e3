/** The config file's `storefront:` section: rate limits and cache times, each checked with a clear message. */
import { AppError } from '../core/index.ts';
import { type AccessSettings, DEFAULT_ACCESS_SETTINGS, type RateLimit } from './access.ts';
import { DEFAULT_DECIDE_SETTINGS, type DecideSettings } from './decide.ts';

export interface ParsedStorefrontSettings {
  access: AccessSettings;
  decide: DecideSettings;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * ```yaml
 * storefront:
 *   rate_limits:
 *     per_ip: { per_second: 20, burst: 100 }
 *     per_key: { per_second: 2000, burst: 5000 }
 *     responses_per_ip: { per_second: 0.2, burst: 10 }
 *     max_tracked: 100000      # addresses remembered per bucket set (least recently seen forgotten)
 *   cache: { reference_ms: 10000, live_ms: 1000 }
 *   slow_lane_reliability: 0.8
 *   publishable: { stock: bands, low_stock_at: 5 }   # what publishable keys' answers include
 * ```
 */
export function parseStorefrontSettings(raw: unknown): ParsedStorefrontSettings {
  const problems: string[] = [];
  const access: AccessSettings = { ...DEFAULT_ACCESS_SETTINGS };
  const decide: DecideSettings = { ...DEFAULT_DECIDE_SETTINGS };
  const r = raw ?? {};
  if (!isObj(r)) problems.push('storefront must be an object');
  else {
    const limit = (v: unknown, name: string, dflt: RateLimit): RateLimit => {
      if (v === undefined) return dflt;
      if (!isObj(v)) {
        problems.push(`storefront.rate_limits.${name} must be { per_second, burst }`);
        return dflt;
      }
      const perSecond = v.per_second ?? dflt.perSecond;
      const burst = v.burst ?? dflt.burst;
      if (typeof perSecond !== 'number' || !(perSecond > 0) || perSecond > 1e7)
        problems.push(`storefront.rate_limits.${name}.per_second must be a number > 0`);
      if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1 || burst > 1e8)
        problems.push(`storefront.rate_limits.${name}.burst must be a whole number ≥ 1`);
      for (const k of Object.keys(v))
        if (k !== 'per_second' && k !== 'burst') problems.push(`storefront.rate_limits.${name}.${k} is unknown (known: per_second, burst)`);
      return { perSecond: Number(perSecond), burst: Number(burst) };
    };
    const rl = r.rate_limits;
    if (rl !== undefined && !isObj(rl)) problems.push('storefront.rate_limits must be an object');
    else if (rl !== undefined) {
      access.perIp = limit(rl.per_ip, 'per_ip', access.perIp);
      access.perKey = limit(rl.per_key, 'per_key', access.perKey);
      access.responsesPerIp = limit(rl.responses_per_ip, 'responses_per_ip', access.responsesPerIp);
      const max = rl.max_tracked;
      if (max !== undefined) {
        if (typeof max !== 'number' || !Number.isInteger(max) || max < 100 || max > 10_000_000)
          problems.push('storefront.rate_limits.max_tracked must be a whole number from 100 to 10000000');
        else access.maxTracked = max;
      }
      for (const k of Object.keys(rl))
        if (!['per_ip', 'per_key', 'responses_per_ip', 'max_tracked'].includes(k)) problems.push(`storefront.rate_limits.${k} is unknown`);
    }
    const cache = r.cache;
    if (cache !== undefined && !isObj(cache)) problems.push('storefront.cache must be an object');
    else if (cache !== undefined) {
      for (const [k, field] of [
        ['reference_ms', 'referenceTtlMs'],
        ['live_ms', 'liveTtlMs'],
      ] as const) {
        const v = cache[k];
        if (v === undefined) continue;
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 3_600_000)
          problems.push(`storefront.cache.${k} must be a whole number of ms from 0 to 3600000`);
        else decide[field] = v;
      }
    }
    const slow = r.slow_lane_reliability;
    if (slow !== undefined) {
      if (typeof slow !== 'number' || slow < 0 || slow > 1) problems.push('storefront.slow_lane_reliability must be a share from 0 to 1');
      else decide.slowLaneReliability = slow;
    }
    const pub = r.publishable;
    if (pub !== undefined && !isObj(pub)) problems.push('storefront.publishable must be an object');
    else if (pub !== undefined) {
      const browser = { ...decide.browser };
      if (pub.stock !== undefined) {
        if (pub.stock !== 'bands' && pub.stock !== 'exact') problems.push('storefront.publishable.stock must be bands or exact');
        else browser.stock = pub.stock;
      }
      const low = pub.low_stock_at;
      if (low !== undefined) {
        if (typeof low !== 'number' || !Number.isInteger(low) || low < 0 || low > 1_000_000)
          problems.push('storefront.publishable.low_stock_at must be a whole number ≥ 0');
        else browser.lowStockAt = low;
      }
      for (const k of Object.keys(pub))
        if (k !== 'stock' && k !== 'low_stock_at') problems.push(`storefront.publishable.${k} is unknown (known: stock, low_stock_at)`);
      decide.browser = browser;
    }
    for (const k of Object.keys(r))
      if (!['rate_limits', 'cache', 'slow_lane_reliability', 'publishable'].includes(k))
        problems.push(`storefront.${k} is unknown (known: rate_limits, cache, slow_lane_reliability, publishable)`);
  }
  if (problems.length > 0)
    throw new AppError('PW_CONFIG_INVALID', `Invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      category: 'user',
      extra: { problems },
    });
  return { access, decide };
}
