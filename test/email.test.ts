/**
 * `email.send` and email alerts against a real SMTP server (smtp-server on 127.0.0.1), every
 * received message parsed with mailparser.
 */
import { type AddressObject, type ParsedMail, simpleParser } from 'mailparser';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ActionExecutor,
  type ActionRequest,
  builtInExecutors,
  type ClaimedAction,
  Dispatcher,
  type ExecutorContext,
  executorRegistry,
  type Outbox,
  openOutbox,
  openSecretStore,
  parseActSettings,
  seededRandom,
} from '../src/act/index.ts';
import { deterministicId, FakeClock } from '../src/core/index.ts';
import { openEventLog } from '../src/log/index.ts';
import type { Store } from '../src/store/index.ts';
import { type Backend, sqliteBackend } from './support/backends.ts';

interface Got {
  envelopeTo: string[];
  mail: ParsedMail;
}

const inbox: Got[] = [];
/** Per recipient: answer 451 once, or 550 always. */
let deferOnce = new Set<string>();
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onRcptTo(address, _session, cb) {
    if (address.address.startsWith('nobody@')) return cb(Object.assign(new Error('no such mailbox'), { responseCode: 550 }));
    if (deferOnce.has(address.address)) {
      deferOnce.delete(address.address);
      return cb(Object.assign(new Error('greylisted, try again later'), { responseCode: 451 }));
    }
    cb();
  },
  onData(stream, session, cb) {
    simpleParser(stream)
      .then((mail) => {
        inbox.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail });
        cb();
      })
      .catch(cb);
  },
});
let smtpPort = 0;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  smtpPort = (server.server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address));

describe('email.send', () => {
  let backend: Backend;
  let store: Store;
  let clock: FakeClock;
  let outbox: Outbox;
  let ctx: ExecutorContext;
  let executors: ActionExecutor[];
  let dispatcher: Dispatcher;
  let n = 0;

  const open = (env: Record<string, string>) => {
    const { settings, problems } = parseActSettings(env);
    expect(problems).toEqual([]);
    executors = builtInExecutors(settings);
    dispatcher = new Dispatcher(outbox, executorRegistry(executors), ctx, { random: seededRandom(9), backoffBaseMs: 1_000 });
  };

  beforeEach(async () => {
    backend = sqliteBackend();
    store = await backend.open();
    clock = new FakeClock();
    outbox = openOutbox(store, clock);
    ctx = {
      clock,
      db: store.db,
      log: openEventLog(store, clock),
      secrets: openSecretStore(store, clock),
      logger: pino({ level: 'silent' }),
    };
    inbox.length = 0;
    deferOnce = new Set();
    open({ PITWALL_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, PITWALL_MAIL_FROM: 'Teile Shop <service@parts.example>' });
  });
  afterEach(async () => {
    for (const e of executors) await e.close?.();
    await ctx.log.close();
    await store.close();
    await backend.cleanup();
  });

  const action = (params: Record<string, unknown>, type = 'email.send'): ActionRequest => {
    const runId = `run-${++n}`;
    return {
      key: deterministicId('pitwall.action', runId, 'steps.0'),
      runId,
      workflowId: 'delayed-shipment',
      workflowVersion: 1,
      stepPath: 'steps.0',
      type,
      params,
      customerId: 'cust-1',
      createdAtMs: clock.now(),
    };
  };
  const delayNotice = (to: string | string[] = 'anna@example.com', extra: Record<string, unknown> = {}) =>
    action({
      to,
      subject: 'Your order {{ order.id }} is running late',
      text: 'Hello {{ name }},\nparcel {{ order.id }} now arrives on {{ order.eta }}.\n',
      html: '<p>Hello {{ name }},</p><p>parcel <b>{{ order.id }}</b> now arrives on {{ order.eta }}.</p>',
      vars: { name: 'Anna <& Jo>', order: { id: 'A-1001', eta: 'Friday' } },
      ...extra,
    });
  const send = async (...reqs: ActionRequest[]) => {
    await outbox.enqueue(store.db, reqs);
    return dispatcher.tick();
  };

  it('sends text and HTML rendered from templates, with the action key as Message-ID', async () => {
    const a = delayNotice();
    expect(await send(a)).toMatchObject({ completed: 1 });
    expect(inbox).toHaveLength(1);
    const { mail, envelopeTo } = inbox[0] as Got;
    expect(envelopeTo).toEqual(['anna@example.com']);
    expect(mail.subject).toBe('Your order A-1001 is running late');
    expect(mail.from?.value).toEqual([{ address: 'service@parts.example', name: 'Teile Shop' }]);
    expect(addresses(mail.to)).toEqual(['anna@example.com']);
    expect(mail.text).toBe('Hello Anna <& Jo>,\nparcel A-1001 now arrives on Friday.\n');
    expect(mail.html).toBe('<p>Hello Anna &lt;&amp; Jo&gt;,</p><p>parcel <b>A-1001</b> now arrives on Friday.</p>');
    expect(mail.messageId).toBe(`<${a.key}@parts.example>`);
    expect(mail.headers.get('x-pitwall-action')).toBe(a.key);
    expect(mail.headers.get('x-pitwall-workflow')).toBe('delayed-shipment');
    expect(await outbox.get(a.key)).toMatchObject({
      status: 'done',
      result: { detail: { message_id: `<${a.key}@parts.example>`, accepted: 1 } },
    });
  });

  it('gives a repeated send (a crash before complete) the same Message-ID, so the two are recognisably one message', async () => {
    const a = delayNotice();
    await outbox.enqueue(store.db, [a]);
    const [claimed] = await outbox.claimDue(1, 60_000);
    const email = executors.find((e) => e.type === 'email.send') as ActionExecutor;
    await email.execute(claimed as ClaimedAction, ctx);
    await email.execute({ ...(claimed as ClaimedAction), attempts: 2 }, ctx);
    expect(inbox.map((g) => g.mail.messageId)).toEqual([`<${a.key}@parts.example>`, `<${a.key}@parts.example>`]);
  });

  it('retries a temporary SMTP refusal (4xx) and then delivers', async () => {
    deferOnce.add('grey@example.com');
    const a = delayNotice('grey@example.com');
    expect(await send(a)).toMatchObject({ retried: 1 });
    expect((await outbox.get(a.key))?.lastError).toMatch(/^PW_EMAIL_DEFERRED: .*451/);
    clock.advance(60_000);
    expect(await dispatcher.tick()).toMatchObject({ completed: 1 });
    expect(inbox).toHaveLength(1);
  });

  it('dead-letters a permanent refusal (5xx)', async () => {
    const a = delayNotice('nobody@example.com');
    expect(await send(a)).toMatchObject({ dead: 1 });
    expect((await outbox.get(a.key))?.lastError).toMatch(/^PW_EMAIL_REJECTED: .*550/);
  });

  it('dead-letters a template whose variable is missing, sending nothing', async () => {
    const a = delayNotice('anna@example.com', { vars: { name: 'Anna' } });
    expect(await send(a)).toMatchObject({ dead: 1 });
    expect((await outbox.get(a.key))?.lastError).toBe('PW_EMAIL_TEMPLATE: email.send template: no value for {{ order.id }}');
    expect(inbox).toEqual([]);
  });

  it('retries while the SMTP server is unreachable', async () => {
    for (const e of executors) await e.close?.();
    open({ PITWALL_SMTP_URL: 'smtp://127.0.0.1:1', PITWALL_MAIL_FROM: 'service@parts.example' });
    const a = delayNotice();
    expect(await send(a)).toMatchObject({ retried: 1 });
    expect((await outbox.get(a.key))?.lastError).toMatch(/^PW_EMAIL_UNREACHABLE/);
  });

  it('dead-letters mail when no SMTP server is configured', async () => {
    for (const e of executors) await e.close?.();
    open({});
    const a = delayNotice();
    expect(await send(a)).toMatchObject({ dead: 1 });
    expect((await outbox.get(a.key))?.lastError).toMatch(/^PW_EMAIL_NOT_CONFIGURED/);
  });

  it('sends an ops alert by email', async () => {
    const a = action(
      {
        summary: 'Cold room 2 above 8 °C for 20 minutes',
        severity: 'critical',
        details: { warehouse: 'WH-HAM', max_c: 9.4 },
        email: { to: ['ops@parts.example'] },
      },
      'alert',
    );
    expect(await send(a)).toMatchObject({ completed: 1 });
    const { mail } = inbox[0] as Got;
    expect(mail.subject).toBe('[Pitwall critical] Cold room 2 above 8 °C for 20 minutes');
    expect(mail.text).toContain('warehouse: WH-HAM');
    expect(mail.text).toContain('max_c: 9.4');
    expect(mail.messageId).toBe(`<${a.key}@parts.example>`);
  });

  it('validates params statically for workflow files, accepting templates the runner renders', () => {
    const email = executors.find((e) => e.type === 'email.send') as ActionExecutor;
    expect(email.templateParams).toEqual(['subject', 'text', 'html']);
    expect(
      email.validateParams({ to: '{{ customer.email }}', subject: 'Hi {{ name }}', text: 'Hello', vars: { name: '{{ customer.name }}' } }),
    ).toEqual([]);
    expect(email.validateParams({ to: 'not-an-address', subject: 'Hi {{ 1 + 2 }}', text: 'Hello {{ name', cc: 'x@y.z' })).toEqual([
      { pointer: '/to', message: 'must be an email address like name@example.com' },
      { pointer: '/subject', message: '"{{1 + 2}}" is not a variable name like order.id' },
      { pointer: '/text', message: 'has an unmatched {{ or }}' },
      { pointer: '/cc', message: 'unknown parameter (known: to, subject, text, html, vars, from, replyTo)' },
    ]);
    expect(email.validateParams({ subject: 'x' })).toEqual([
      { pointer: '/to', message: 'is required' },
      { pointer: '/text', message: 'is required' },
    ]);
  });
});
