/** Rate-limit buckets: a bounded LRU, and client addresses bucketed by IPv4 address or IPv6 /64. */
import { expect, it } from 'vitest';
import { FakeClock } from '../core/index.ts';
import { addressBucket, TokenBuckets } from './access.ts';

it('buckets IPv6 clients by /64 and IPv4 (also IPv4-mapped) by address', () => {
  expect(addressBucket('2001:db8:1:2::1')).toBe(addressBucket('2001:db8:1:2:ffff:ffff:ffff:fffe'));
  expect(addressBucket('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
  expect(addressBucket('2001:0db8:0001:0002:0000:0000:0000:0001')).toBe('2001:db8:1:2::/64');
  expect(addressBucket('2001:db8:1:3::1')).not.toBe(addressBucket('2001:db8:1:2::1'));
  expect(addressBucket('::ffff:192.0.2.7')).toBe('192.0.2.7');
  expect(addressBucket('192.0.2.7')).toBe('192.0.2.7');
  expect(addressBucket('192.0.2.8')).not.toBe('192.0.2.7');
  expect(addressBucket('not an address')).toBe('not an address');
});

it('forgets the least recently seen name beyond its bound, so a spray of addresses cannot grow it or evict a busy client', () => {
  const clock = new FakeClock(0);
  const b = new TokenBuckets(clock, { perSecond: 1, burst: 2 }, 100);
  // A busy client spends its burst.
  expect(b.take('busy')).toBeUndefined();
  expect(b.take('busy')).toBeUndefined();
  expect(b.take('busy')).toBe(1);
  for (let i = 0; i < 10_000; i++) {
    b.take(`spray-${i}`);
    if (i % 50 === 0) b.take('busy'); // still active: stays among the most recent
    expect(b.size).toBeLessThanOrEqual(100);
  }
  expect(b.size).toBe(100);
  // Still limited: its empty bucket was not forgotten (a plain FIFO would have dropped it).
  expect(b.take('busy')).toBeGreaterThanOrEqual(1);
  // The oldest sprayed names were forgotten: they start over with a full bucket.
  expect(b.take('spray-0')).toBeUndefined();
});
