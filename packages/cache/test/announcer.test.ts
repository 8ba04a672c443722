import { describe, expect, it } from 'vitest';
import { Announcer } from '../src/announcer.js';
import type { CacheDriver } from '../src/driver.js';
import { L2Guard } from '../src/l2-guard.js';
import { OutageJournal } from '../src/outage-journal.js';

/** A driver whose `publish` records its messages, or fails while `failing` is set. */
function recordingDriver() {
  const sent: string[] = [];
  const state = { failing: false };
  const driver: CacheDriver = {
    name: 'recording',
    get: async () => undefined,
    set: async () => {},
    delete: async () => false,
    clear: async () => {},
    publish: async (_channel, message) => {
      if (state.failing) throw new Error('publish refused');
      sent.push(message);
    },
  };
  return { driver, sent, state };
}

function announcerOver(driver: CacheDriver, windowMs: number) {
  const errors: string[] = [];
  const guard = new L2Guard(driver, {
    timeoutMs: 100,
    failureThreshold: 100,
    probeIntervalMs: 1_000,
    onError: (operation) => errors.push(operation),
    onDegraded: () => {},
    onRecovered: () => {},
  });
  const journal = new OutageJournal(1_000, 'ns:');
  const announcer = new Announcer({ id: 'me', channel: 'chan', guard, journal }, windowMs);
  return { announcer, journal, errors, guard };
}

const keysOf = (message: string) =>
  (JSON.parse(message.slice(message.indexOf('{'))) as { k: string[] }).k;

describe('Announcer (coalesced invalidations)', () => {
  it('after a quiet window a write claims the message; the next ones share one as it closes', async () => {
    const { driver, sent } = recordingDriver();
    const { announcer, guard } = announcerOver(driver, 40);
    expect(announcer.claim()).toBe(true); // the caller sends this one with its write
    expect(announcer.claim()).toBe(false);
    const t0 = performance.now();
    announcer.add('ns:v:a');
    announcer.add('ns:v:b');
    announcer.add('ns:v:a');
    expect(announcer.claim()).toBe(false);
    expect(sent).toHaveLength(0);
    expect(announcer.pending).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.startsWith('me{')).toBe(true);
    expect(keysOf(sent[0] ?? '')).toEqual(['ns:v:a', 'ns:v:b']);
    expect(announcer.pending).toBe(false);
    // The message went out at the end of the window that the claim opened, not before.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30);
    await new Promise((r) => setTimeout(r, 60));
    expect(announcer.claim()).toBe(true);
    announcer.add('ns:v:c');
    await announcer.flush();
    expect(sent.map(keysOf)).toEqual([['ns:v:a', 'ns:v:b'], ['ns:v:c']]);
    guard.stop();
  });

  it('with no message within the window, an added key goes out at once', async () => {
    const { driver, sent } = recordingDriver();
    const { announcer, guard } = announcerOver(driver, 10_000);
    announcer.add('ns:v:a');
    await new Promise((r) => setTimeout(r, 20));
    expect(sent.map(keysOf)).toEqual([['ns:v:a']]);
    guard.stop();
  });

  it('a burst past 500 keys goes out without waiting for the window', async () => {
    const { driver, sent } = recordingDriver();
    const { announcer, guard } = announcerOver(driver, 1_000);
    expect(announcer.claim()).toBe(true);
    for (let i = 0; i < 501; i++) announcer.add(`ns:v:${i}`);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(1);
    expect(keysOf(sent[0] ?? '')).toHaveLength(500);
    await announcer.flush();
    expect(sent.map((m) => keysOf(m).length)).toEqual([500, 1]);
    guard.stop();
  });

  it('a message that fails is journaled and sent again on recovery; the values stay', async () => {
    const { driver, sent, state } = recordingDriver();
    const { announcer, journal, errors, guard } = announcerOver(driver, 10);
    state.failing = true;
    announcer.add('ns:v:a');
    announcer.add('ns:v:b');
    expect(journal.empty).toBe(true);
    await announcer.flush();
    expect(sent).toHaveLength(0);
    expect(errors).toEqual(['publish']);
    expect(journal.empty).toBe(false);
    // The journal replays the message only: the values written are the newest, and stay.
    const deleted: string[] = [];
    const announced: string[][] = [];
    state.failing = false;
    const ok = await journal.replay({
      driver: {
        ...driver,
        delete: async (k) => {
          deleted.push(k);
          return true;
        },
      },
      publish: async (msg) => {
        announced.push(msg.k ?? []);
      },
      timeoutMs: 1_000,
    });
    expect(ok).toBe(true);
    expect(deleted).toEqual([]);
    expect(announced).toEqual([['ns:v:a', 'ns:v:b']]);
    expect(journal.empty).toBe(true);
    guard.stop();
  });

  it('flush with nothing pending resolves at once, and after a closed guard journals', async () => {
    const { driver, sent } = recordingDriver();
    const { announcer, journal, guard } = announcerOver(driver, 10);
    await announcer.flush();
    guard.stop();
    announcer.add('ns:v:late');
    await announcer.flush();
    expect(sent).toHaveLength(0);
    expect(journal.empty).toBe(false);
  });
});
