/** `pitwall storefront identity-secret`: see or rotate a store's identity secret (ADR 0018, docs/storefront.md). */
import type { Command } from '@commander-js/extra-typings';
import { AppError } from '../core/index.ts';
import { IdentitySecrets } from '../storefront/index.ts';
import { run, withStore } from './context.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export async function identitySecret(opts: { store: string; rotate?: boolean; graceHours: string }): Promise<void> {
  const grace = Number(opts.graceHours);
  if (!/^\d+(\.\d+)?$/.test(opts.graceHours) || !(grace <= 720))
    throw new AppError('PW_REQUEST_INVALID', '--grace-hours is a number of hours from 0 to 720');
  await withStore(async (store, _cfg, clock) => {
    const secrets = new IdentitySecrets(store.db, clock, 0);
    if (opts.rotate) {
      const r = await secrets.rotate(opts.store, grace * 3_600_000);
      console.log(
        `Rotated the identity secret of store "${r.store}". ${r.previousUntil !== undefined ? `The previous one verifies until ${iso(r.previousUntil)}.` : 'The previous one no longer verifies.'}`,
      );
      console.log(r.secret);
      return;
    }
    const s = await secrets.show(opts.store);
    console.log(`Identity secret of store "${s.store}" (since ${iso(s.createdAt)}); keep it on the shop's server, never in a page:`);
    console.log(s.secret);
    if (s.previousUntil !== undefined) console.log(`The previous secret also verifies until ${iso(s.previousUntil)}.`);
    console.log('userHash = hex(HMAC-SHA256(secret, userId)) — see docs/storefront.md#identity-verification-userhash');
  });
}

export function storefrontCommands(program: Command): void {
  const sf = program.command('storefront').description('the storefront: decisions, surveys and publishable keys (docs/storefront.md)');
  sf.command('identity-secret')
    .description("show (made on first use) or rotate a store's identity secret: the shop's server signs its customers' user ids with it")
    .requiredOption('--store <store>', 'the store, as its publishable keys name it (a key made without --store serves "default")')
    .option('--rotate', 'make a new secret; the previous one keeps verifying for --grace-hours')
    .option('--grace-hours <hours>', 'with --rotate: how long the previous secret still verifies (0: at once invalid)', '24')
    .action((o) => run(() => identitySecret(o)));
}
