/** `pitwall secrets …`: named secrets for webhook signing. Values go in, never come out (list shows names and dates). */
import type { Command } from '@commander-js/extra-typings';
import { generateWebhookSecret, openSecretStore } from '../act/index.ts';
import { AppError } from '../core/index.ts';
import { run, withStore } from './context.ts';

const iso = (ms: number) => new Date(ms).toISOString();

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY)
    throw new AppError(
      'PW_SECRET_VALUE_INVALID',
      'pipe the value in (printf %s "$VALUE" | pitwall secrets set NAME), pass --value, or --generate a webhook secret',
    );
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export async function secretsSet(name: string, opts: { value?: string; generate?: boolean; keepPrevious?: boolean }): Promise<void> {
  if (opts.value !== undefined && opts.generate) throw new AppError('PW_SECRET_VALUE_INVALID', 'give --value or --generate, not both');
  const value = opts.generate ? generateWebhookSecret() : (opts.value ?? (await readStdin()));
  await withStore(async (store, _cfg, clock) => {
    const secrets = openSecretStore(store, clock);
    await secrets.set(name, value, { keepPrevious: opts.keepPrevious === true });
    const kept = (await secrets.get(name))?.length ?? 1;
    console.log(
      `Secret "${name}" set${kept > 1 ? `; ${kept - 1} previous value(s) kept for the rotation (webhooks are signed with each)` : ''}.`,
    );
    if (opts.generate) {
      console.log('Give this signing secret to the receiver. It is shown only once:');
      console.log(value);
    }
  });
}

export async function secretsList(): Promise<void> {
  await withStore(async (store, _cfg, clock) => {
    const list = await openSecretStore(store, clock).list();
    if (list.length === 0) console.log('No secrets. Create one: pitwall secrets set NAME --generate');
    for (const s of list) console.log(`${s.name}\t${s.versions} value${s.versions === 1 ? '' : 's'}\tset ${iso(s.createdAtMs)}`);
  });
}

export async function secretsDelete(name: string): Promise<void> {
  await withStore(async (store, _cfg, clock) => {
    if (!(await openSecretStore(store, clock).delete(name))) throw new AppError('PW_SECRET_NOT_FOUND', `no secret named "${name}"`);
    console.log(`Deleted secret "${name}". Webhooks that name it are dead-lettered until it exists again.`);
  });
}

export function secretsCommands(program: Command): void {
  const secrets = program.command('secrets').description('named secrets (webhook signing keys), referenced by name from workflows');
  secrets
    .command('set')
    .argument('<name>', 'letters, digits, ".", "_", "-"')
    .description('set a secret from stdin, --value, or a generated webhook signing secret')
    .option('--value <value>', 'the value (visible in your shell history; prefer stdin)')
    .option('--generate', 'generate a Standard Webhooks secret (whsec_…) and print it once')
    .option('--keep-previous', 'keep the older value(s) during a rotation: webhooks are signed with both')
    .action((name, o) => run(() => secretsSet(name, o)));
  secrets
    .command('list')
    .description('names and dates, never values')
    .action(() => run(secretsList));
  secrets
    .command('delete')
    .argument('<name>')
    .action((name) => run(() => secretsDelete(name)));
}
