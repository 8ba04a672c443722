// Preloaded (`node --import`) into the docs build by the tests: any connection to a host that is
// not this machine, and any DNS lookup of a name other than localhost, throws and is recorded in
// the file named by ORG_NO_NETWORK_LOG, so a build that reached for a CDN, a font or a search
// service fails the test instead of quietly depending on the network.
import dns from 'node:dns';
import { appendFileSync } from 'node:fs';
import net from 'node:net';

const log = process.env.ORG_NO_NETWORK_LOG;
const local = (host) =>
  host === undefined ||
  host === 'localhost' ||
  host === '::1' ||
  /^127\./.test(host) ||
  host === '0.0.0.0' ||
  host === '::';

function refuse(what) {
  if (log) appendFileSync(log, `${what}\n`);
  return new Error(`network access refused during the docs build: ${what}`);
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  // net.connect() hands the socket its arguments already normalised, as one array.
  const list = Array.isArray(args[0]) ? args[0] : args;
  const first = list[0];
  const options = typeof first === 'object' && first !== null ? first : {};
  const host =
    typeof first === 'object' ? options.host : typeof list[1] === 'string' ? list[1] : undefined;
  const isPipe = typeof first === 'string' || options.path !== undefined;
  if (!isPipe && !local(host)) {
    const err = refuse(`connect ${host}:${options.port ?? first}`);
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return connect.apply(this, args);
};

for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6']) {
  const original = dns[name];
  dns[name] = function (hostname, ...rest) {
    if (local(hostname)) return original.call(this, hostname, ...rest);
    const callback = rest.findLast((a) => typeof a === 'function');
    const err = Object.assign(refuse(`dns ${name} ${hostname}`), { code: 'ENOTFOUND' });
    if (callback) process.nextTick(() => callback(err));
    else throw err;
  };
}
const { lookup } = dns.promises;
dns.promises.lookup = async (hostname, ...rest) => {
  if (local(hostname)) return lookup(hostname, ...rest);
  throw Object.assign(refuse(`dns lookup ${hostname}`), { code: 'ENOTFOUND' });
};
