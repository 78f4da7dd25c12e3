/**
 * The guard's decisions, without connecting anywhere: these addresses would leave the machine,
 * so they are judged as strings (check 1) and as resolver answers (check 2). The connection
 * tests (test/webhooks.test.ts) aim every hostile URL at a local listener instead.
 */
import { describe, expect, it } from 'vitest';
import { checkUrl, forbiddenReason, guardedLookup, parseActSettings, parseAllowList, type Resolver } from './index.ts';

const none = parseAllowList('').cidrs;

describe('forbiddenReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.9.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.10.10', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['192.0.2.10', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
    ['[::1]', 'loopback'],
    ['fe80::1%eth0', 'linkLocal'],
  ])('refuses %s (%s)', (address, range) => {
    expect(forbiddenReason(address, none)).toBe(`a ${range} address`);
  });

  it.each(['169.254.169.254', '100.100.100.200', 'fd00:ec2::254', '::ffff:169.254.169.254', '169.254.170.2'])(
    'refuses the cloud metadata address %s',
    (a) => {
      expect(forbiddenReason(a, none)).toBe('a cloud metadata address');
    },
  );

  it.each(['93.184.216.34', '2606:4700:4700::1111', '8.8.8.8'])('allows the public address %s', (a) => {
    expect(forbiddenReason(a, none)).toBeUndefined();
  });

  it('lets PITWALL_WEBHOOK_ALLOW ranges through, in IPv4 and mapped form, and nothing else', () => {
    const allow = parseAllowList('127.0.0.0/8, 10.1.2.0/24 fd00::/8').cidrs;
    expect(forbiddenReason('127.0.0.1', allow)).toBeUndefined();
    expect(forbiddenReason('::ffff:127.0.0.9', allow)).toBeUndefined();
    expect(forbiddenReason('10.1.2.200', allow)).toBeUndefined();
    expect(forbiddenReason('fd00::5', allow)).toBeUndefined();
    expect(forbiddenReason('10.1.3.1', allow)).toBe('a private address');
    expect(forbiddenReason('::1', allow)).toBe('a loopback address');
    expect(forbiddenReason('192.168.0.1', allow)).toBe('a private address');
  });

  it('keeps metadata addresses refused under a wide allowance, unless named alone', () => {
    expect(forbiddenReason('169.254.169.254', parseAllowList('169.254.0.0/16').cidrs)).toBe('a cloud metadata address');
    expect(forbiddenReason('169.254.169.254', parseAllowList('169.254.169.254').cidrs)).toBeUndefined();
    expect(forbiddenReason('169.254.169.254', parseAllowList('::ffff:169.254.169.254/128').cidrs)).toBeUndefined();
  });

  it('reads the allow list and names each bad entry', () => {
    expect(parseAllowList('127.0.0.0/8,::1').cidrs).toHaveLength(2);
    expect(parseAllowList('127.0.0.0/33, example.com').problems).toEqual([
      '"127.0.0.0/33" is not a CIDR range like 127.0.0.0/8 or 10.1.2.0/24',
      '"example.com" is not a CIDR range like 127.0.0.0/8 or 10.1.2.0/24',
    ]);
  });
});

describe('checkUrl (before connecting)', () => {
  it.each([
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://0x7f.0x0.0x0.0x1/',
    'http://127.1/',
    'http://%31%32%37.0.0.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://[0:0:0:0:0:ffff:7f00:1]/',
    'http://[::1]/',
    'http://0/',
    'http://[::]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00:ec2::254]/',
    'http://10.0.0.1:8080/',
    'https://100.100.100.200/',
    'http://localhost/',
    'http://localhost./',
    'http://LOCALHOST/',
    'http://api.localhost/',
  ])('refuses %s with zero lookups', (url) => {
    expect(() => checkUrl(url, none)).toThrow(expect.objectContaining({ code: 'PW_WEBHOOK_ADDRESS_FORBIDDEN' }));
  });

  it.each([
    ['ftp://example.com/', 'PW_WEBHOOK_URL_INVALID'],
    ['file:///etc/passwd', 'PW_WEBHOOK_URL_INVALID'],
    ['http://user:pw@example.com/', 'PW_WEBHOOK_URL_INVALID'],
    ['not a url', 'PW_WEBHOOK_URL_INVALID'],
  ])('refuses %s', (url, code) => {
    expect(() => checkUrl(url, none)).toThrow(expect.objectContaining({ code }));
  });

  it('passes a public name (it is judged again at lookup) and allowed literals', () => {
    expect(checkUrl('https://hooks.example.com/x', none).hostname).toBe('hooks.example.com');
    expect(checkUrl('http://2130706433:8080/', parseAllowList('127.0.0.0/8').cidrs).hostname).toBe('127.0.0.1');
    expect(checkUrl('http://localhost:8080/', parseAllowList('127.0.0.0/8').cidrs).port).toBe('8080');
  });
});

describe('guardedLookup (every answer)', () => {
  const lookup = (resolve: Resolver, allow = none, options: { all?: boolean; family?: number } = { all: true }) =>
    new Promise<{ err: Error | null; result: unknown; family?: number | undefined }>((done) =>
      guardedLookup(resolve, allow)('hooks.example.com', options, (err, result, family) => done({ err, result, family })),
    );
  const answers =
    (...addrs: string[]): Resolver =>
    async () =>
      addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('hands back every address when all are public, in the shape Node asked for', async () => {
    expect((await lookup(answers('93.184.216.34', '2606:2800::1'))).result).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800::1', family: 6 },
    ]);
    expect(await lookup(answers('93.184.216.34'), none, {})).toMatchObject({ err: null, result: '93.184.216.34', family: 4 });
    expect(await lookup(answers('93.184.216.34', '2606:2800::1'), none, { family: 6 })).toMatchObject({
      result: '2606:2800::1',
      family: 6,
    });
  });

  it.each([
    [['10.0.0.1']],
    [['93.184.216.34', '127.0.0.1']],
    [['::ffff:169.254.169.254']],
    [['2606:2800::1', 'fd00::1']],
    [['100.64.1.1']],
  ])('refuses a name if any answer is forbidden: %j', async (addrs) => {
    const r = await lookup(answers(...addrs));
    expect(r.err).toMatchObject({ code: 'PW_WEBHOOK_ADDRESS_FORBIDDEN' });
  });

  it('asks again on every connection, so an answer that changes is judged each time', async () => {
    let calls = 0;
    const rebinding: Resolver = async () => [{ address: calls++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    expect((await lookup(rebinding)).err).toBeNull();
    expect((await lookup(rebinding)).err).toMatchObject({ code: 'PW_WEBHOOK_ADDRESS_FORBIDDEN' });
    expect(calls).toBe(2);
  });

  it('passes on resolver failures and empty answers as errors', async () => {
    expect((await lookup(async () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' })))).err).toMatchObject({
      code: 'ENOTFOUND',
    });
    expect((await lookup(answers())).err).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('parseActSettings', () => {
  it('reads the allow list and SMTP settings', () => {
    const { settings, problems } = parseActSettings({
      PITWALL_WEBHOOK_ALLOW: '127.0.0.0/8',
      PITWALL_SMTP_URL: 'smtp://u:p@127.0.0.1:2525',
      PITWALL_MAIL_FROM: 'Parts Shop <service@parts.example>',
    });
    expect(problems).toEqual([]);
    expect(settings).toMatchObject({
      webhookAllowText: '127.0.0.0/8',
      smtpUrl: 'smtp://u:p@127.0.0.1:2525',
      mailFrom: 'Parts Shop <service@parts.example>',
    });
    expect(settings.webhookAllow).toHaveLength(1);
    expect(parseActSettings({})).toEqual({
      settings: { webhookAllow: [], webhookAllowText: '', smtpUrl: undefined, mailFrom: undefined },
      problems: [],
    });
  });

  it('names every bad value', () => {
    expect(
      parseActSettings({ PITWALL_WEBHOOK_ALLOW: 'intranet', PITWALL_SMTP_URL: 'http://mail', PITWALL_MAIL_FROM: 'nobody' }).problems,
    ).toEqual([
      'PITWALL_WEBHOOK_ALLOW: "intranet" is not a CIDR range like 127.0.0.0/8 or 10.1.2.0/24',
      'PITWALL_SMTP_URL must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587',
      'PITWALL_MAIL_FROM="nobody" must be an address or Name <address>',
    ]);
    expect(parseActSettings({ PITWALL_SMTP_URL: 'smtp://mail.example.com' }).problems).toEqual([
      'PITWALL_SMTP_URL is set but PITWALL_MAIL_FROM is not: name the sender',
    ]);
  });
});
