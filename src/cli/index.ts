/** The `pitwall` command line. */
import { Command } from '@commander-js/extra-typings';
import { actionsCommands } from './actions.ts';
import {
  backup,
  devicesCreate,
  devicesList,
  devicesRevoke,
  eventsTail,
  keysCreate,
  keysList,
  keysRevoke,
  quarantineList,
  quarantineReplay,
  restore,
} from './admin.ts';
import { catalogCommands } from './catalog.ts';
import { run } from './context.ts';
import { demoAgainstServer } from './demo.ts';
import { learnCommands } from './learn.ts';
import { reportCommands } from './report.ts';
import { riskCommands } from './risk.ts';
import { secretsCommands } from './secrets.ts';
import { startCommand } from './start.ts';
import { stateCommands } from './state.ts';
import { storefrontCommands } from './storefront.ts';
import { workflowsCommands } from './workflows.ts';

const program = new Command('pitwall').description('Pitwall: IoT signals → ecommerce actions').showHelpAfterError();

program
  .command('start')
  .description('run the server (embedded store and MQTT broker unless configured otherwise)')
  .option('--demo', 'also run the demo world: a simulated parts shop driving this server (docs/demo.md)')
  .option('--speed <n>', 'with --demo: clock speed, times real time (default 360: a day every 4 minutes)')
  .option('--seed <seed>', "with --demo: the world's seed (same seed, same shop and story)", '1')
  .option('--effects-off <list>', 'with --demo: causal effects to switch off: promise, offer, surveys')
  .option('--keep', 'with --demo: keep the demo store of the last run instead of starting afresh')
  .action((o) => run(() => startCommand(o)));

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
  .action((o) => run(() => (o.server === false ? demoAgainstServer(o) : startCommand({ ...o, demo: true }))));

const keys = program.command('keys').description('API keys (shown once, stored as SHA-256 hashes)');
keys
  .command('create')
  .option('--scopes <scopes>', 'comma-separated: ingest, read, admin', 'ingest')
  .option('--name <name>', 'a label for lists')
  .option('--publishable', 'a browser-safe key (pk_…) for the storefront routes only; needs --origins')
  .option('--origins <origins>', 'publishable keys: comma-separated allowed origins, e.g. https://shop.example')
  .option('--store <store>', 'publishable keys: the store it serves')
  .action((o) => run(() => keysCreate(o)));
keys.command('list').action(() => run(keysList));
keys
  .command('revoke')
  .argument('<id>', 'key id or prefix')
  .action((id) => run(() => keysRevoke(id)));

const devices = program.command('devices').description('device credentials for the embedded MQTT broker');
devices
  .command('create')
  .argument('<deviceId>')
  .action((id) => run(() => devicesCreate(id)));
devices.command('list').action(() => run(devicesList));
devices
  .command('revoke')
  .argument('<deviceId>')
  .action((id) => run(() => devicesRevoke(id)));

const quarantine = program.command('quarantine').description('rejected input, kept with its reason');
quarantine
  .command('list')
  .option('--status <status>', 'pending or replayed', 'pending')
  .option('--limit <n>', 'how many', '50')
  .option('--json', 'one JSON object per line, with the payload')
  .action((o) => run(() => quarantineList(o)));
quarantine
  .command('replay')
  .argument('[ids...]')
  .option('--file <file>', 'a corrected payload (JSON) to replay instead of the stored one')
  .option('--all', 'replay every pending item')
  .action((ids, o) => run(() => quarantineReplay(ids, o)));

const events = program.command('events').description('the event log');
events
  .command('tail')
  .option('--type <type>', 'exact type or prefix like commerce.*')
  .option('-n, --limit <n>', 'how many recent events', '20')
  .option('-f, --follow', 'keep printing new events')
  .action((o) => run(() => eventsTail(o)));

program
  .command('backup')
  .argument('<file>', 'where to write the copy')
  .description('consistent copy of the embedded store, safe while Pitwall runs')
  .action((f) => run(() => backup(f)));
program
  .command('restore')
  .argument('<file>')
  .option('--force', 'replace an existing store')
  .description('bring a backup back (Pitwall must be stopped)')
  .action((f, o) => run(() => restore(f, o)));

catalogCommands(program);
stateCommands(program);
learnCommands(program);
workflowsCommands(program);
secretsCommands(program);
actionsCommands(program);
riskCommands(program);
reportCommands(program);
storefrontCommands(program);

await program.parseAsync();
