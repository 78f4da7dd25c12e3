/**
 * The SSRF guard for outbound webhooks. A workflow author chooses the URL, so Pitwall must not
 * become a way into the network it runs in. Three checks, because each alone has a gap:
 *
 * 1. before connecting, the URL's host when it is an IP literal (Node never calls `lookup` for
 *    a literal; WHATWG URL parsing has already turned `2130706433`, `0x7f.1`, `0177.0.0.1` into
 *    `127.0.0.1`), and the names `localhost` / `*.localhost` (RFC 6761) without asking DNS;
 * 2. every address a name resolves to (`lookup` with `all: true`): one forbidden answer refuses
 *    the whole name, and the connection goes only to addresses that were checked, so a DNS
 *    answer that changes between lookups (rebinding) is checked again on each connection;
 * 3. the connected socket's remote address, whatever path led there.
 *
 * Forbidden: everything ipaddr.js does not call `unicast` — private, loopback, link-local,
 * CGNAT, unspecified, multicast, reserved and documentation ranges, unique-local IPv6, and
 * IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4, Teredo) — plus the cloud
 * metadata addresses. IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is judged as the IPv4 address.
 * `PITWALL_WEBHOOK_ALLOW` (a CIDR list) lets ranges through, e.g. `127.0.0.0/8` for a local
 * receiver; a metadata address passes only when an entry names it alone (/32, /128).
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { NonRetriableError } from './errors.ts';

type Ip = ipaddr.IPv4 | ipaddr.IPv6;
export type Cidr = [Ip, number];

/** Resolves a name to every address it has (the system resolver unless a test injects one). */
export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

const METADATA = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '169.254.170.23',
  '100.100.100.200',
  '192.0.0.192',
  'fd00:ec2:0:0:0:0:0:254',
]);

/** `PITWALL_WEBHOOK_ALLOW`: comma- or space-separated CIDRs (a bare address means just it). */
export function parseAllowList(text: string | undefined): { cidrs: Cidr[]; problems: string[] } {
  const cidrs: Cidr[] = [];
  const problems: string[] = [];
  for (const part of (text ?? '').split(/[\s,]+/).filter((p) => p !== '')) {
    try {
      if (part.includes('/')) cidrs.push(ipaddr.parseCIDR(part) as Cidr);
      else {
        const ip = ipaddr.parse(part);
        cidrs.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
      }
    } catch {
      problems.push(`"${part}" is not a CIDR range like 127.0.0.0/8 or 10.1.2.0/24`);
    }
  }
  return { cidrs, problems };
}

function normalise(ip: Ip): Ip {
  return ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

/** The range with an IPv4-mapped IPv6 network turned into its IPv4 form. */
function normCidr([net, bits]: Cidr): Cidr {
  const n = normalise(net);
  return [n, net.kind() === 'ipv6' && n.kind() === 'ipv4' ? Math.max(0, bits - 96) : bits];
}

function inCidr(ip: Ip, c: Cidr): boolean {
  const [n, bits] = normCidr(c);
  if (n.kind() !== ip.kind()) return false;
  return ip.kind() === 'ipv4' ? (ip as ipaddr.IPv4).match(n as ipaddr.IPv4, bits) : (ip as ipaddr.IPv6).match(n as ipaddr.IPv6, bits);
}

/** Why connecting to `address` is refused, or undefined when it is allowed. */
export function forbiddenReason(address: string, allow: readonly Cidr[]): string | undefined {
  const text = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  let ip: Ip;
  try {
    ip = normalise(ipaddr.parse(text));
  } catch {
    return 'not an IP address';
  }
  if (METADATA.has(ip.toNormalizedString())) {
    const full = ip.kind() === 'ipv4' ? 32 : 128;
    return allow.some((c) => normCidr(c)[1] === full && inCidr(ip, c)) ? undefined : 'a cloud metadata address';
  }
  if (allow.some((c) => inCidr(ip, c))) return undefined;
  const range = ip.range();
  return range === 'unicast' ? undefined : `a ${range} address`;
}

/** The code every refusal carries, so a caller can find it in an error's `cause` chain. */
export const FORBIDDEN_CODE = 'PW_WEBHOOK_ADDRESS_FORBIDDEN';

export function forbidden(host: string, address: string, reason: string): NonRetriableError {
  const at = host === address ? address : `${host} (${address})`;
  return new NonRetriableError(`refusing to connect to ${at}: ${reason}; allow it with PITWALL_WEBHOOK_ALLOW if it is yours`, {
    code: FORBIDDEN_CODE,
  });
}

/** `localhost` names are refused without asking DNS unless some loopback range is allowed (then its answers are judged). */
function loopbackForbidden(allow: readonly Cidr[]): string | undefined {
  const v4 = forbiddenReason('127.0.0.1', allow);
  return v4 && forbiddenReason('::1', allow) ? v4 : undefined;
}

function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/** Check 1: the URL itself (scheme, credentials, IP literal, localhost names). Throws a NonRetriableError. */
export function checkUrl(url: string, allow: readonly Cidr[]): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new NonRetriableError(`not an absolute URL: ${JSON.stringify(url.slice(0, 200))}`, { code: 'PW_WEBHOOK_URL_INVALID' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new NonRetriableError(`webhooks use http or https, not ${u.protocol}`, { code: 'PW_WEBHOOK_URL_INVALID' });
  if (u.username !== '' || u.password !== '')
    throw new NonRetriableError('a webhook URL must not carry credentials', { code: 'PW_WEBHOOK_URL_INVALID' });
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new NonRetriableError('a webhook URL needs a host', { code: 'PW_WEBHOOK_URL_INVALID' });
  if (isIP(host)) {
    const r = forbiddenReason(host, allow);
    if (r) throw forbidden(host, host, r);
  } else if (isLocalhostName(host)) {
    const r = loopbackForbidden(allow);
    if (r) throw forbidden(host, 'loopback', r);
  }
  return u;
}

type LookupCallback = (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void;

/**
 * Check 2: a `lookup` for `net.connect` that resolves every address, refuses the name if any
 * is forbidden, and hands Node only checked addresses (in the shape it asked for).
 */
export function guardedLookup(resolve: Resolver, allow: readonly Cidr[]) {
  return (hostname: string, options: { family?: number | string; all?: boolean }, callback: LookupCallback): void => {
    const done = (err: Error) => callback(err, options.all ? [] : '', 0);
    const run = async () => {
      if (isLocalhostName(hostname)) {
        const r = loopbackForbidden(allow);
        if (r) throw forbidden(hostname, 'loopback', r);
      }
      const all = await resolve(hostname);
      if (all.length === 0) throw Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' });
      for (const a of all) {
        const r = forbiddenReason(a.address, allow);
        if (r) throw forbidden(hostname, a.address, r);
      }
      const fam = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
      const usable = fam === 0 ? all : all.filter((a) => a.family === fam);
      const first = usable[0];
      if (!first) throw Object.assign(new Error(`${hostname} has no IPv${fam} address`), { code: 'ENOTFOUND' });
      if (options.all) callback(null, usable);
      else callback(null, first.address, first.family);
    };
    run().catch(done);
  };
}
