import { isIP } from 'node:net';

/** An address as a number: 32 bits for IPv4, 128 for IPv6. */
export interface ParsedIp {
  version: 4 | 6;
  value: bigint;
}

function v4(text: string): bigint {
  let n = 0n;
  for (const part of text.split('.')) n = (n << 8n) | BigInt(Number(part));
  return n;
}

/** Parses an IPv4 or IPv6 address (zone id dropped); `undefined` when it is neither. */
export function parseIp(input: string): ParsedIp | undefined {
  const text = input.trim().replace(/%.*$/, '');
  const version = isIP(text);
  if (version === 4) return { version: 4, value: v4(text) };
  if (version !== 6) return undefined;
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string): bigint[] => {
    if (s === '') return [];
    const out: bigint[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const n = v4(g);
        out.push(n >> 16n, n & 0xffffn);
      } else out.push(BigInt(Number.parseInt(g, 16)));
    }
    return out;
  };
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<bigint>(8 - h.length - t.length).fill(0n), ...t];
  let value = 0n;
  for (const g of all) value = (value << 16n) | g;
  // An IPv4-mapped address (::ffff:1.2.3.4) is the IPv4 client it stands for.
  if (value >> 32n === 0xffffn) return { version: 4, value: value & 0xffffffffn };
  return { version: 6, value };
}

function formatV6(value: bigint, groups: number): string {
  const out: string[] = [];
  for (let i = 0; i < groups; i++)
    out.push(((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return out.join(':');
}

/**
 * The limiter id of a client address: an IPv4 address as it is; an IPv6 address grouped by its
 * `/64` (`2001:db8:1:2::/64`), because one subscriber commonly holds a whole /64 and could
 * otherwise rotate through 2^64 ids. `undefined` when `ip` is not an address.
 *
 * @param ipv6Subnet prefix length IPv6 addresses are grouped by (1-128). @default 64
 */
export function ipId(ip: string | undefined, ipv6Subnet = 64): string | undefined {
  if (ip === undefined) return undefined;
  const p = parseIp(ip);
  if (!p) return undefined;
  if (p.version === 4) {
    const n = Number(p.value);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  const bits = Math.min(128, Math.max(1, Math.trunc(ipv6Subnet)));
  const masked = p.value & (((1n << BigInt(bits)) - 1n) << BigInt(128 - bits));
  if (bits === 128) return formatV6(masked, 8);
  return `${formatV6(masked, Math.ceil(bits / 16))}::/${bits}`;
}

/**
 * A predicate over ids for an allow or deny list: each entry is an exact id (`'user:42'`), an
 * address (`'203.0.113.7'`) or a CIDR range (`'10.0.0.0/8'`, `'2001:db8::/32'`), which matches
 * addresses and the `/64` ids of {@link ipId} inside it.
 */
export function idMatcher(entries: readonly string[]): (id: string) => boolean {
  const exact = new Set<string>();
  const ranges: { version: 4 | 6; bits: bigint; net: bigint }[] = [];
  for (const e of entries) {
    const [addr = '', len] = e.split('/');
    const p = parseIp(addr);
    if (!p) {
      exact.add(e);
      continue;
    }
    const width = p.version === 4 ? 32 : 128;
    const prefix = len === undefined ? width : Math.min(width, Number(len));
    const shift = BigInt(width - prefix);
    ranges.push({ version: p.version, bits: shift, net: p.value >> shift });
    if (len === undefined) exact.add(ipId(addr, 128) ?? e);
  }
  return (id) => {
    if (exact.has(id)) return true;
    if (ranges.length === 0) return false;
    const p = parseIp(id.split('/')[0] ?? '');
    if (!p) return false;
    return ranges.some((r) => r.version === p.version && p.value >> r.bits === r.net);
  };
}
