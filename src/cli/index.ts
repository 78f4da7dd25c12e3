/** The `pitwall` command line. */
import { Command } from '@commander-js/extra-typings';

import { run } from './context.ts';

// Each command's code, and the domains it imports, load only when that command runs: `pitwall keys
// create` does not pay for the server, the workflow engine or the risk model (ADR 0021).
const admin = () => import('./admin.ts');
const start = (o: Parameters<typeof import('./start.ts').startCommand>[0]) => import('./start.ts').then((m) => m.startCommand(o));

/** Commands declared in their own modules, by name: only the one being run is imported. */
const REGISTRARS: Record<string, () => Promise<(program: Command) => void>> = {
  catalog: () => import('./catalog.ts').then((m) => m.catalogCommands),
  state: () => import('./state.ts').then((m) => m.stateCommands),
  learn: () => import('./learn.ts').then((m) => m.learnCommands),
  workflows: () => import('./workflows.ts').then((m) => m.workflowsCommands),
  secrets: () => import('./secrets.ts').then((m) => m.secretsCommands),
  actions: () => import('./actions.ts').then((m) => m.actionsCommands),
  risk: () => import('./risk.ts').then((m) => m.riskCommands),
  report: () => import('./report.ts').then((m) => m.reportCommands),
  storefront: () => import('./storefront.ts').then((m) => m.storefrontCommands),
};

const program = new Command('pitwall').description('Pitwall: IoT signals → ecommerce actions').showHelpAfterError();

program
  .command('start')
  .description('run the server (embedded store and MQTT broker unless configured otherwise)')
  .option('--demo', 'also run the demo world: a simulated parts shop driving this server (docs/demo.md)')
  .option('--speed <n>', 'with --demo: clock speed, times real time (default 360: a day every 4 minutes)')
  .option('--seed <seed>', "with --demo: the world's seed (same seed, same shop and story)", '1')
  .option('--effects-off <list>', 'with --demo: causal effects to switch off: promise, offer, surveys')
  .option('--keep', 'with --demo: keep the demo store of the last run instead of starting afresh')
  .action((o) => run(() => start(o)));

program
  .command('demo')
  .description('the demo world: a simulated parts shop driving Pitwall through its public API (docs/demo.md)')
  .option('--no-server', 'drive an already running Pitwall (with --url and --key) instead of starting one')
  .option('--url <url>', 'with --no-server: the Pitwall to drive (or PITWALL_URL)')
  .option('--key <key>', 'with --no-server: a key with ingest, read and admin scopes (or PITWALL_KEY)')
  .option('--mqtt <url>', "with --no-server: Pitwall's embedded MQTT broker (devices and carriers report there; else over HTTP)")
  .option('--speed <n>', "clock speed, times real time; with --no-server it must match the server's")
  .option('--seed <seed>', "the world's seed (same seed, same shop and story)", '1')
  .option('--history <days>', 'backfill this much history first, in history mode (e.g. 90d), with a progress bar')
  .option('--effects-off <list>', 'causal effects to switch off: promise, offer, surveys')
  .option('--keep', 'keep the demo store of the last run instead of starting afresh')
  .action((o) => run(async () => (o.server === false ? (await import('./demo.ts')).demoAgainstServer(o) : start({ ...o, demo: true }))));

const keys = program.command('keys').description('API keys (shown once, stored as SHA-256 hashes)');
keys
  .command('create')
  .option('--scopes <scopes>', 'comma-separated: ingest, read, admin', 'ingest')
  .option('--name <name>', 'a label for lists')
  .option('--publishable', 'a browser-safe key (pk_…) for the storefront routes only; needs --origins')
  .option('--origins <origins>', 'publishable keys: comma-separated allowed origins, e.g. https://shop.example')
  .option('--store <store>', 'publishable keys: the store it serves')
  .action((o) => run(async () => (await admin()).keysCreate(o)));
keys.command('list').action(() => run(async () => (await admin()).keysList()));
keys
  .command('revoke')
  .argument('<id>', 'key id or prefix')
  .action((id) => run(async () => (await admin()).keysRevoke(id)));

const devices = program.command('devices').description('device credentials for the embedded MQTT broker');
devices
  .command('create')
  .argument('<deviceId>')
  .action((id) => run(async () => (await admin()).devicesCreate(id)));
devices.command('list').action(() => run(async () => (await admin()).devicesList()));
devices
  .command('revoke')
  .argument('<deviceId>')
  .action((id) => run(async () => (await admin()).devicesRevoke(id)));

const quarantine = program.command('quarantine').description('rejected input, kept with its reason');
quarantine
  .command('list')
  .option('--status <status>', 'pending or replayed', 'pending')
  .option('--limit <n>', 'how many', '50')
  .option('--json', 'one JSON object per line, with the payload')
  .action((o) => run(async () => (await admin()).quarantineList(o)));
quarantine
  .command('replay')
  .argument('[ids...]')
  .option('--file <file>', 'a corrected payload (JSON) to replay instead of the stored one')
  .option('--all', 'replay every pending item')
  .action((ids, o) => run(async () => (await admin()).quarantineReplay(ids, o)));

const events = program.command('events').description('the event log');
events
  .command('tail')
  .option('--type <type>', 'exact type or prefix like commerce.*')
  .option('-n, --limit <n>', 'how many recent events', '20')
  .option('-f, --follow', 'keep printing new events')
  .action((o) => run(async () => (await admin()).eventsTail(o)));

program
  .command('backup')
  .argument('<file>', 'where to write the copy')
  .description('consistent copy of the embedded store, safe while Pitwall runs')
  .action((f) => run(async () => (await admin()).backup(f)));
program
  .command('restore')
  .argument('<file>')
  .option('--force', 'replace an existing store')
  .description('bring a backup back (Pitwall must be stopped)')
  .action((f, o) => run(async () => (await admin()).restore(f, o)));

// The command being run is the first argument. One declared above needs none of the modules below;
// one of theirs needs only its own. Anything else — help, an option first (`--help catalog`), a
// typo — declares them all, so help lists every command and a typo gets its suggestion.
const first = process.argv[2];
const declared = new Set(program.commands.map((c) => c.name()));
const registrars =
  first !== undefined && declared.has(first)
    ? []
    : first !== undefined && first in REGISTRARS
      ? [REGISTRARS[first] as () => Promise<(program: Command) => void>]
      : Object.values(REGISTRARS);
for (const register of registrars) (await register())(program);

await program.parseAsync();
