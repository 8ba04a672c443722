import { apiKeyKey, clientIp, idMatcher, ipId, ipKey, userKey } from '@org/rate-limit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const req = (remote: string, headers: Record<string, string> = {}) => ({
  headers,
  socket: { remoteAddress: remote },
});

describe('identifiers', () => {
  it('IPv6 is grouped by /64; IPv4-mapped addresses are IPv4', () => {
    expect(ipId('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(ipId('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(ipId('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(ipId('203.0.113.7')).toBe('203.0.113.7');
    expect(ipId('2001:db8::1', 128)).toBe('2001:db8:0:0:0:0:0:1');
    expect(ipId('not an ip')).toBeUndefined();
  });

  it('proxy headers are ignored unless trusted', () => {
    const r = req('10.0.0.2', { 'x-forwarded-for': '198.51.100.1, 203.0.113.5' });
    expect(clientIp(r)).toBe('10.0.0.2');
    expect(clientIp(r, { trustProxy: 1 })).toBe('203.0.113.5');
    expect(clientIp(r, { trustProxy: 2 })).toBe('198.51.100.1');
    expect(clientIp(r, { trustProxy: true })).toBe('198.51.100.1');
    const fwd = req('10.0.0.2', {
      forwarded: 'for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"',
    });
    expect(clientIp(fwd, { trustProxy: 1, proxyHeader: 'forwarded' })).toBe('2001:db8:cafe::17');
    const cf = req('10.0.0.2', { 'cf-connecting-ip': '203.0.113.99' });
    expect(ipKey(cf, { trustProxy: true, proxyHeader: 'cf-connecting-ip' })).toBe('203.0.113.99');
    const huge = req('10.0.0.2', { 'x-forwarded-for': '1.1.1.1,'.repeat(1000) });
    expect(clientIp(huge, { trustProxy: 1 })).toBe('10.0.0.2');
  });

  it('user and API key ids; an API key never appears in its id', () => {
    expect(userKey(42)).toBe('user:42');
    const id = apiKeyKey('sk_live_secret');
    expect(id).toMatch(/^key:[\w-]{32}$/);
    expect(id).not.toContain('secret');
  });

  it('lists match exact ids, addresses and CIDR ranges', () => {
    const m = idMatcher(['user:1', '10.0.0.0/8', '2001:db8::/32', '192.0.2.1']);
    expect(m('user:1')).toBe(true);
    expect(m('10.255.0.1')).toBe(true);
    expect(m('11.0.0.1')).toBe(false);
    expect(m('2001:db8:5:6::/64')).toBe(true);
    expect(m('2001:db9::/64')).toBe(false);
    expect(m('192.0.2.1')).toBe(true);
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (ip, header) => {
        ipId(ip);
        clientIp(req(ip, { 'x-forwarded-for': header, forwarded: header }), { trustProxy: 2 });
        clientIp(req(ip, { forwarded: header }), { trustProxy: 1, proxyHeader: 'forwarded' });
        idMatcher([ip, header])(ip);
      }),
    );
  });
});
