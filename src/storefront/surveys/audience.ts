/**
 * Audience conditions: a small typed CEL environment (not the workflows' one: a storefront
 * request has no event or run). Variables are flat so no custom types are needed.
 */
import { Environment } from '@marcbachmann/cel-js';

/** The variables an audience expression may read, with their CEL types. */
export const AUDIENCE_VARIABLES = {
  page_type: 'string',
  page_url: 'string',
  placement: 'string',
  region: 'string',
  store: 'string',
  customer_known: 'bool',
  customer_vehicles: 'int',
  customer_orders: 'int',
  cart_value: 'double',
} as const;

export interface AudienceFacts {
  page_type: string;
  page_url: string;
  placement: string;
  region: string;
  store: string;
  customer_known: boolean;
  customer_vehicles: number;
  customer_orders: number;
  cart_value: number;
}

const env = new Environment({ limits: { maxAstNodes: 200, maxDepth: 20, maxListElements: 50, maxMapEntries: 50 } });
for (const [name, type] of Object.entries(AUDIENCE_VARIABLES)) env.registerVariable(name, type);

export type CompiledAudience = { ok: true; matches(f: AudienceFacts): boolean } | { ok: false; message: string };

export function compileAudience(source: string): CompiledAudience {
  if (source.length > 2000) return { ok: false, message: 'the expression is longer than 2000 characters' };
  try {
    const fn = env.parse(source);
    const checked = fn.check();
    if (!checked.valid)
      return { ok: false, message: `CEL: ${(checked.error as { message?: string } | undefined)?.message ?? 'does not type-check'}` };
    if (checked.type !== 'bool') return { ok: false, message: `the audience must be a bool expression, but it is ${checked.type}` };
    return {
      ok: true,
      matches(f) {
        try {
          const ctx = { ...f, customer_vehicles: BigInt(f.customer_vehicles), customer_orders: BigInt(f.customer_orders) };
          return fn(ctx) === true;
        } catch {
          return false;
        }
      },
    };
  } catch (e) {
    return { ok: false, message: `CEL syntax: ${(e as Error).message}` };
  }
}
