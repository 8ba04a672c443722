/**
 * The status page: static HTML, CSS and script (no data in it, so nothing to escape on the
 * server); the script fetches `/status.json` and renders every value with `textContent`, never
 * as markup. `nonce` is the CSP nonce of the inline script and style.
 */
export function statusPage(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>example-service status</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${CSS}</style>
</head>
<body>
<header><h1>example-service</h1><span id="instance"></span><span id="updated" class="muted">loading…</span></header>
<main>
<section id="breakers-section"><h2>Circuit breakers</h2>
<div id="chaos" hidden><button id="fail" type="button">Make the upstream fail</button>
<span id="chaos-state" class="muted" role="status"></span></div>
<div id="breakers"></div></section>
<section><h2>Cache</h2><div id="cache"></div></section>
<section><h2>Rate limits</h2><div id="ratelimit"></div></section>
<section><h2>Health checks</h2><div id="health"></div></section>
<section><h2>Key ring</h2><div id="keys"></div></section>
<section><h2>Backups</h2><div id="backup"></div></section>
<section><h2>Other metrics</h2><div id="other"></div></section>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.4 system-ui,sans-serif;color:#1b1f24;background:#f6f7f9}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:baseline;padding:.75rem 1rem;background:#1b1f24;color:#fff}
h1{font-size:1.1rem;margin:0}
#instance{font-size:.85rem;overflow-wrap:anywhere;min-width:0}
h2{font-size:1rem;margin:0 0 .5rem}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,22rem),1fr));gap:1rem;padding:1rem;max-width:80rem;margin:auto}
section{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:.75rem;min-width:0}
table{width:100%;border-collapse:collapse;table-layout:fixed}
td,th{text-align:left;padding:.2rem .3rem;border-bottom:1px solid #eef0f3;overflow-wrap:anywhere;vertical-align:top}
th{font-weight:600;font-size:.85rem;color:#57606a}
.muted{color:#8b949e;font-size:.85rem}
.pill{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.8rem;font-weight:600}
.closed,.ok,.healthy,.active{background:#dafbe1;color:#116329}
.open,.fail,.unhealthy,.retired{background:#ffebe9;color:#a40e26}
.halfOpen,.warn,.degraded,.verify,.pending{background:#fff8c5;color:#7d4e00}
.timeline{list-style:none;margin:.25rem 0 .75rem;padding:0;font-size:.85rem}
.timeline li{overflow-wrap:anywhere}
.breaker{margin-bottom:.5rem}
#keys th:first-child{width:75%}
.kid{font-size:.85rem;overflow-wrap:anywhere}
.name{font-weight:600;overflow-wrap:anywhere}
.bar{height:.6rem;background:#eef0f3;border-radius:3px;overflow:hidden;display:flex;margin:.25rem 0}
.bar span{display:block;height:100%}
.l1{background:#2da44e}.l2{background:#54aeff}
button{font:inherit;padding:.4rem .8rem;border-radius:6px;border:1px solid #cf222e;background:#fff;color:#cf222e;cursor:pointer}
button:disabled{opacity:.5;cursor:default}
#chaos{margin-bottom:.5rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
#chaos[hidden]{display:none}
`;

// Every value goes through el()/text(), which set textContent: a name such as
// "<script>…</script>" shows as those characters and never becomes markup.
const SCRIPT = `
'use strict';
const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
const KNOWN = new Set(['closed','open','halfOpen','ok','warn','fail','healthy','degraded','unhealthy','active','verify','pending','retired']);
function pill(value) {
  return el('span', 'pill ' + (KNOWN.has(value) ? value : ''), value);
}
function table(head, rows) {
  const t = el('table');
  const h = t.createTHead().insertRow();
  for (const c of head) h.appendChild(el('th', '', c));
  const b = t.createTBody();
  for (const r of rows) {
    const tr = b.insertRow();
    for (const c of r) {
      const td = tr.insertCell();
      if (c instanceof Node) td.appendChild(c); else td.textContent = String(c);
    }
  }
  return t;
}
const pct = (x) => (x === null || x === undefined ? '–' : (100 * x).toFixed(1) + ' %');
const time = (ms) => new Date(ms).toLocaleTimeString();
function fill(id, ...nodes) { $(id).replaceChildren(...nodes); }

function render(s) {
  $('updated').textContent = 'updated ' + time(Date.parse(s.generatedAt));
  const i = s.instance;
  $('instance').textContent = i ? 'instance ' + i.id + ', state ' + (i.state === 'redis' ? 'shared in Redis (' + i.prefix + ')' : 'in memory, this instance only') : '';
  $('chaos').hidden = !s.chaos;
  fill('breakers', ...(s.breakers.length ? s.breakers.map((b) => {
    const box = el('div', 'breaker');
    const head = el('div');
    head.append(el('span', 'name', b.name), ' ', pill(b.state));
    const c = b.calls;
    box.append(head, el('div', 'muted', c
      ? 'since start: ' + c.success + ' succeeded, ' + c.failure + ' failed, ' + c.timeout + ' timed out, ' + c.rejected + ' rejected while open; ' + c.fallback + ' answered by the fallback'
      : 'counts: metrics are off (OTEL_SDK_DISABLED)'));
    const ol = el('ol', 'timeline');
    for (const t of b.timeline.slice(-8).reverse()) {
      const li = el('li', '', time(t.at) + ' ');
      li.append(pill(t.from), ' → ', pill(t.to));
      ol.appendChild(li);
    }
    if (!b.timeline.length) ol.appendChild(el('li', 'muted', 'no transition yet'));
    box.appendChild(ol);
    return box;
  }) : [el('p', 'muted', 'no breaker')]));

  if (s.cache) {
    const c = s.cache;
    const bar = el('div', 'bar');
    const hits = c.l1 + c.l2;
    const l1 = el('span', 'l1'); l1.style.width = (hits ? 100 * c.l1 / hits : 0) + '%';
    const l2 = el('span', 'l2'); l2.style.width = (hits ? 100 * c.l2 / hits : 0) + '%';
    bar.append(l1, l2);
    fill('cache', table(['hit ratio', 'L1 hits', 'L2 hits', 'misses'], [[pct(c.hitRatio), c.l1, c.l2, c.miss]]), bar,
      el('div', 'muted', 'of hits: ' + pct(c.l1Share) + ' from memory (L1), the rest from Redis (L2)'));
  } else fill('cache', el('p', 'muted', 'metrics are off (OTEL_SDK_DISABLED)'));

  const m = s.metrics;
  if (!m) {
    fill('ratelimit', el('p', 'muted', 'metrics are off (OTEL_SDK_DISABLED)'));
    fill('other', el('p', 'muted', 'metrics are off (OTEL_SDK_DISABLED)'));
  } else {
    fill('ratelimit', m.rateLimit.length
      ? table(['tier', 'allowed', 'rejected'], m.rateLimit.map((r) => [r.tier, r.allowed, r.limited]))
      : el('p', 'muted', 'no decision yet'));
    const v = m.keyRotation.verifies;
    fill('other', table(['what', 'count'], [
      ['alerts sent', m.alertsSent],
      ['tokens signed', m.keyRotation.signs],
      ['tokens verified (ok / refused)', (v.success || 0) + ' / ' + (v.failure || 0)],
      ['storage bytes put / read', (m.storageBytes.put || 0) + ' / ' + (m.storageBytes.get || 0)],
      ['backup bytes encrypted / decrypted', (m.backupCryptoBytes.encrypt || 0) + ' / ' + (m.backupCryptoBytes.decrypt || 0)],
    ]));
  }

  if (s.health) {
    const head = el('p');
    head.append('overall ', pill(s.health.status));
    fill('health', head, table(['check', 'status', 'latency'], s.health.checks.map((c) =>
      [c.name + (c.critical ? ' (critical)' : ''), pill(c.status), c.latencyMs.toFixed(1) + ' ms'])));
  } else fill('health', el('p', 'muted', 'no health'));

  const bk = s.backup;
  if (!bk || !bk.enabled) fill('backup', el('p', 'muted', 'off (set BACKUP_TRIGGER_TOKEN and DATABASE_URL)'));
  else if (!bk.last) fill('backup', el('p', 'muted', 'no run since start-up'));
  else fill('backup', table(['last run', 'status', 'started', 'took'], [[
    el('code', 'kid', bk.last.runId), pill(bk.last.status) , bk.last.startedAt.slice(0, 19).replace('T', ' ') + ' UTC',
    bk.last.durationMs === undefined ? '–' : (bk.last.durationMs / 1000).toFixed(1) + ' s' + (bk.last.error ? ' (' + bk.last.error + ')' : ''),
  ]]));

  fill('keys', s.keys.length ? table(['key', 'state'], s.keys.map((k) => {
    const cell = el('div');
    cell.append(el('code', 'kid', k.kid), el('div', 'muted', k.alg + ', created ' + k.createdAt.slice(0, 10) +
      (k.verifyUntil ? ', verifies until ' + k.verifyUntil.slice(0, 10) : '')));
    return [cell, pill(k.status)];
  })) : el('p', 'muted', 'no key'));
}

let failing = false;
async function refresh() {
  try {
    const res = await fetch('/status.json', { cache: 'no-store' });
    if (!res.ok) throw new Error('status ' + res.status);
    const s = await res.json();
    render(s);
    return s;
  } catch (err) {
    $('updated').textContent = 'cannot reach the service (' + err.message + ')';
    return undefined;
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const post = (q) => fetch('/upstream/chaos?' + q, { method: 'POST' });
const upstreamState = async () => {
  const r = await fetch('/upstream');
  return r.ok ? (await r.json()).breaker : undefined;
};

// The chaos control: the upstream fails until the breaker opens (calls get the fallback), then
// it heals (back to its earlier fail rate), and calls continue until the breaker has let a trial call through and closed.
$('fail').addEventListener('click', async () => {
  if (failing) return;
  failing = true;
  $('fail').disabled = true;
  const say = (t) => { $('chaos-state').textContent = t; };
  try {
    // The rate it had (UPSTREAM_FAIL_RATE, or what was set before) is the one it heals to.
    const before = await (await post('')).json();
    await post('failRate=1');
    say('upstream failing: calling it until the breaker opens…');
    for (let i = 0; i < 20 && (await upstreamState()) !== 'open'; i++) await refresh();
    await refresh();
    await post('failRate=' + encodeURIComponent(before.failRate));
    say('breaker open, calls answered by the fallback; upstream healed, waiting for recovery…');
    for (let i = 0; i < 60; i++) {
      await sleep(1000);
      const st = await upstreamState();
      await refresh();
      if (st === 'closed') break;
    }
    say('recovered: the breaker let a trial call through and closed');
  } catch (err) {
    say('the control failed: ' + err.message);
  } finally {
    failing = false;
    $('fail').disabled = false;
  }
});

(async function loop() {
  for (;;) {
    await refresh();
    await sleep(1000);
  }
})();
`;
