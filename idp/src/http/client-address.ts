/**
 * The client's IP address behind reverse proxies: which `X-Forwarded-For` entries to believe
 * (TESSERA_TRUST_PROXY), and the address they give. A proxy appends the address it received the
 * request from, so only the entries on the right, written by proxies we trust, are facts; anything
 * to their left was sent by the client and may be anything it likes.
 */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '@tessera/shared';

/** Which peers are trusted to say who their client was. */
export type TrustedProxies =
  /** Nobody: the client is the TCP peer, `X-Forwarded-For` is ignored. */
  | { kind: 'none' }
  /** A fixed chain of `hops` proxies in front of the issuer. */
  | { kind: 'hops'; hops: number }
  /** Any peer at one of these addresses (or in one of these ranges). */
  | { kind: 'addresses'; addresses: string[]; list: BlockList };

/** More proxies than any real chain has: bounds the walk along a client-supplied header. */
const MAX_HOPS = 16;

/**
 * Reads TESSERA_TRUST_PROXY: unset, empty, `false`/`off`/`no` or `0` trust nobody; a number is
 * that many proxies in front of the issuer (`true`/`on`/`yes` mean 1, which is how the switch was
 * used before hop counts: one proxy that adds the client's address); otherwise a comma-separated
 * list of proxy addresses or CIDR ranges (`10.0.0.1, 192.168.0.0/16, ::1`). A bad value is a
 * ConfigError naming the variable.
 */
export function parseTrustedProxies(raw: string | undefined): TrustedProxies {
  const fail = (message: string): never => {
    throw new ConfigError('TESSERA_TRUST_PROXY', message);
  };
  const value = (raw ?? '').trim();
  // The switch words every on/off setting takes (envBoolean of the shared kit) keep their meaning.
  if (value === '' || /^(false|off|no|0)$/i.test(value)) return { kind: 'none' };
  if (/^(true|on|yes)$/i.test(value)) return { kind: 'hops', hops: 1 };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > MAX_HOPS) fail(`at most ${MAX_HOPS} proxy hops, got ${hops}`);
    return { kind: 'hops', hops };
  }
  const list = new BlockList();
  const addresses = value.split(',').map((entry) => entry.trim());
  for (const entry of addresses) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (prefix !== undefined && !/^\d{1,3}$/.test(prefix)))
      fail(
        'expected a number of proxy hops, or proxy addresses or CIDR ranges separated by commas, ' +
          `got ${JSON.stringify(entry)}`,
      );
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else if (Number(prefix) > bits) fail(`a /${prefix} range is too long for ${address}`);
    else list.addSubnet(address, Number(prefix), type);
  }
  return { kind: 'addresses', addresses, list };
}

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, how a dual-stack socket reports IPv4) as IPv4. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m?.[1] ?? address;
}

function isTrusted(trusted: Extract<TrustedProxies, { kind: 'addresses' }>, peer: string): boolean {
  const address = unmapped(peer);
  const family = isIP(address);
  return family !== 0 && trusted.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Whether the TCP peer is a proxy we trust to speak for its client (a request id, a forwarded
 * address): with a number of hops, every peer is the nearest proxy; with addresses, those only.
 */
export function isTrustedProxy(peer: string | undefined, trusted: TrustedProxies): boolean {
  if (trusted.kind === 'none') return false;
  if (trusted.kind === 'hops') return trusted.hops > 0;
  return peer !== undefined && isTrusted(trusted, peer);
}

/**
 * The client's address: the TCP peer, or — when the peer is a trusted proxy — the address that
 * proxy was given, read from the RIGHT of `X-Forwarded-For` past each trusted hop. An entry that is
 * not an IP address ends the walk at the last address known to be real, so a garbled header can
 * neither choose an address nor make one up. `unknown` when there is no peer address at all.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trusted: TrustedProxies,
): string {
  let address = peer || 'unknown';
  if (trusted.kind === 'none' || forwardedFor === undefined) return address;
  // The nearest proxy wrote the last entry; entries beyond the trusted hops are the client's own.
  const chain = forwardedFor
    .split(',')
    .map((entry) => entry.trim())
    .reverse()
    .slice(0, MAX_HOPS);
  for (let hop = 0; hop < chain.length; hop++) {
    const believed = trusted.kind === 'hops' ? hop < trusted.hops : isTrusted(trusted, address);
    if (!believed) break;
    const entry = chain[hop]!;
    if (isIP(entry) === 0) break;
    address = entry;
  }
  return address;
}
