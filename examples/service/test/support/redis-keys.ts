import { connect } from 'node:net';

// Counts, then deletes, the keys under a prefix, in one script each (SCAN inside Redis): the
// example has no Redis client of its own, and a test needs two integers, not a client.
const COUNT = `local c, n = '0', 0
repeat
  local r = redis.call('SCAN', c, 'MATCH', ARGV[1], 'COUNT', 1000)
  c = r[1]
  n = n + #r[2]
until c == '0'
return n`;
const DELETE = `local c, n = '0', 0
repeat
  local r = redis.call('SCAN', c, 'MATCH', ARGV[1], 'COUNT', 1000)
  c = r[1]
  for _, k in ipairs(r[2]) do n = n + redis.call('UNLINK', k) end
until c == '0'
return n`;

/** Sends one command to Redis at `url` and resolves with its integer reply; bounded by 5 s. */
function integerCommand(url: string, args: string[]): Promise<number> {
  const { hostname, port } = new URL(url);
  const frame = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port || 6379), hostname || '127.0.0.1', () =>
      socket.write(frame),
    );
    let text = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('Redis did not answer within 5 s')));
    socket.on('data', (d) => {
      text += d.toString('utf8');
      const end = text.indexOf('\r\n');
      if (end === -1) return;
      socket.end();
      const line = text.slice(0, end);
      if (line.startsWith(':')) resolve(Number(line.slice(1)));
      else reject(new Error(`Redis answered ${line.slice(0, 200)}`));
    });
    socket.on('error', reject);
  });
}

/** How many keys match `pattern` (a Redis glob such as `prefix:*`). */
export const countKeys = (url: string, pattern: string) =>
  integerCommand(url, ['EVAL', COUNT, '0', pattern]);

/** Deletes the keys matching `pattern`; resolves with how many went. */
export const deleteKeys = (url: string, pattern: string) =>
  integerCommand(url, ['EVAL', DELETE, '0', pattern]);
