/** The contact-policy channels (`Channel` is Part A's: src/act) and the ones that reach a customer. */
import type { Channel } from '../../act/index.ts';

export type { Channel };

/** Channels that reach a customer: the policy applies to these; `ops` and `internal` are always allowed. */
export const CUSTOMER_CHANNELS = ['survey', 'onsite', 'email', 'webhook', 'reminder'] as const satisfies readonly Channel[];
export type CustomerChannel = (typeof CUSTOMER_CHANNELS)[number];

export function isCustomerChannel(c: string): c is CustomerChannel {
  return (CUSTOMER_CHANNELS as readonly string[]).includes(c);
}
