// bb's dashboard: current_state by severity, live through the SSE stream.
// Everything comes from this server; nothing is written into the page as
// HTML (textContent only), so the Content-Security-Policy can stay strict.
'use strict';

const SEVERITIES = ['CRITICAL', 'HIGH', 'WARNING', 'SUCCESS', 'STABLE'];
const TOKEN_KEY = 'bb-token';
const rows = new Map();   // "asin|marketplace" -> item of /api/notifications/prioritized
const trends = new Map(); // the same key -> points
const open = new Set();   // rows whose reasons are shown
let tab = 'ALL';
let lastId = null;
let source = null;

const $ = (id) => document.getElementById(id);
const key = (it) => it.asin + '|' + it.marketplace;

function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-')) e.setAttribute(k, v);
    else if (k === 'on') for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
    else e[k] = v;
  }
  for (const kid of kids) if (kid != null) e.append(kid);
  return e;
}

async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(url + ': ' + r.status);
  return r.json();
}

function say(text) {
  $('message').textContent = text;
  $('message').hidden = !text;
}

// ---- data ----

async function loadAll() {
  let next = null;
  const seen = new Set();
  do {
    const page = await getJSON('/api/notifications/prioritized?limit=500' + (next ? '&since=' + encodeURIComponent(next) : ''));
    for (const it of page.items) { rows.set(key(it), it); seen.add(key(it)); }
    next = page.next;
  } while (next);
  for (const k of [...rows.keys()]) if (!seen.has(k)) rows.delete(k);
  render();
  for (const it of rows.values()) queueTrend(it);
}

async function loadAsin(asin) {
  const page = await getJSON('/api/notifications/prioritized?limit=100&asin=' + encodeURIComponent(asin));
  for (const it of page.items) { rows.set(key(it), it); queueTrend(it); }
  render(new Set(page.items.map(key)));
}

const trendQueue = [];
let trendBusy = 0;
function queueTrend(it) {
  if (!trendQueue.some((q) => key(q) === key(it))) trendQueue.push(it);
  pumpTrends();
}
function pumpTrends() {
  while (trendBusy < 4 && trendQueue.length) {
    const it = trendQueue.shift();
    trendBusy++;
    getJSON('/api/competitive-intelligence/trends/' + encodeURIComponent(it.asin) +
      '?since=30d&marketplace=' + encodeURIComponent(it.marketplace))
      .then((t) => { trends.set(key(it), t.points); drawSpark(key(it)); })
      .catch(() => {})
      .finally(() => { trendBusy--; pumpTrends(); });
  }
}

async function loadWorkers() {
  try {
    const s = await getJSON('/api/worker-status');
    const h = $('health');
    h.textContent = s.overall_health;
    h.className = 'health ' + s.overall_health;
    h.title = (s.checks || []).map((c) => c.level + ': ' + c.message).join('\n');
    const q = s.ingestion || {};
    $('q-depth').textContent = q.queue_depth ?? '–';
    $('q-age').textContent = q.oldest_message_age_seconds == null ? '–' : duration(Math.round(q.oldest_message_age_seconds));
    $('q-dlq').textContent = q.dlq_count ?? '–';
    const w = s.workers || [];
    $('q-beats').textContent = w.length ? (w.length - w.filter((x) => x.stale).length) + '/' + w.length + ' fresh' : 'none';
  } catch (e) {
    $('health').textContent = 'unreachable';
    $('health').className = 'health critical';
  }
}

function duration(s) {
  return s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h';
}

// ---- the stream ----

function connect() {
  const url = '/api/notifications/stream' + (lastId != null ? '?since=' + lastId : '');
  source = new EventSource(url);
  source.onopen = () => setLive(true);
  source.onerror = () => {
    setLive(false);
    if (source.readyState === EventSource.CLOSED) { // the browser gave up: start again from our last id
      source = null;
      setTimeout(connect, 3000);
    }
  };
  for (const kind of ['state', 'alert', 'finding']) source.addEventListener(kind, onEvent);
}

function setLive(on) {
  const l = $('live');
  l.textContent = on ? 'live' : 'reconnecting';
  l.className = 'live ' + (on ? 'on' : 'off');
}

const pending = new Set();
let pendingTimer = null;
function onEvent(ev) {
  lastId = Number(ev.lastEventId);
  let d;
  try { d = JSON.parse(ev.data); } catch (e) { return; }
  if (d.asin) pending.add(d.asin);
  if (!pendingTimer) pendingTimer = setTimeout(flushPending, 100); // a burst is read once
}
function flushPending() {
  pendingTimer = null;
  const asins = [...pending];
  pending.clear();
  for (const a of asins) loadAsin(a).catch(() => {});
}

// ---- rendering ----

function visible() {
  return [...rows.values()].filter((it) => tab === 'ALL' || it.severity === tab);
}

function renderTabs() {
  const nav = $('tabs');
  const counts = { ALL: rows.size };
  for (const s of SEVERITIES) counts[s] = 0;
  for (const it of rows.values()) counts[it.severity] = (counts[it.severity] || 0) + 1;
  for (const t of ['ALL', ...SEVERITIES]) {
    let b = nav.querySelector(`button[data-tab="${t}"]`);
    if (!b) { // made once, so a click is never lost to a redraw
      b = el('button', { role: 'tab', 'data-tab': t, on: { click: () => { tab = t; render(); } } },
        t === 'ALL' ? 'All' : t[0] + t.slice(1).toLowerCase(), el('span', { class: 'n' }));
      nav.append(b);
    }
    b.setAttribute('aria-selected', String(t === tab));
    b.querySelector('.n').textContent = String(counts[t]);
  }
}

function cell(label, cls, ...kids) {
  return el('td', { class: cls, 'data-label': label }, ...kids);
}

function alertCell(it) {
  const td = el('td', { class: 'c-alert' });
  const a = it.alert;
  if (!a) { td.append(el('span', { class: 'status' }, '—')); return td; }
  td.append(el('span', { class: 'status', 'data-status': a.status }, a.status));
  if (a.status !== 'resolved') {
    const acts = el('span', { class: 'actions' });
    const act = (label, action, extra) => acts.append(el('button', {
      type: 'button', 'data-action': action,
      on: { click: (e) => { e.stopPropagation(); acknowledge(a.id, action, extra, it); } },
    }, label));
    if (a.status !== 'acknowledged') act('Acknowledge', 'ack');
    act('Snooze 30 min', 'snooze', { for: '30m' });
    act('Resolve', 'resolve');
    td.append(acts);
  }
  return td;
}

function rowOf(it) {
  const gap = it.gap_pct == null ? '–' : Number(it.gap_pct).toFixed(1) + '%';
  const pos = it.position == null ? '–' : it.position + (it.total_offers != null ? ' of ' + it.total_offers : '');
  const tr = el('tr', { class: 'row', 'data-key': key(it), 'data-severity': it.severity,
    on: { click: () => { open.has(key(it)) ? open.delete(key(it)) : open.add(key(it)); render(); } } },
    el('td', { class: 'c-sev' }, el('span', { class: 'sev ' + it.severity }, it.severity)),
    el('td', { class: 'c-asin' }, it.asin),
    cell('', 'c-mkt', it.marketplace),
    cell('ours', 'num c-ours', it.our_price_text ?? '–'),
    cell('low', 'num c-low', it.market_low_text ?? '–'),
    cell('gap', 'num c-gap', gap),
    cell('pos', 'num c-pos', pos),
    cell('buy box', 'c-bb', it.buy_box_winner ? 'yes' : 'no'),
    el('td', { class: 'c-trend' }, sparkline(key(it))),
    alertCell(it));
  return tr;
}

function detailOf(it) {
  const list = el('ul');
  for (const r of it.reasons || []) list.append(el('li', {}, r));
  const flags = (it.risk_flags || []).join(', ');
  return el('tr', { class: 'detail' }, el('td', { colSpan: 10 },
    el('div', {}, 'Rule ', el('b', {}, it.rule || '–'), flags ? ' · risk: ' + flags : ''),
    list,
    el('div', { class: 'status' }, 'event ' + (it.event_time || '–') +
      (it.alert ? ' · alert ' + it.alert.id + ' · ' + it.alert.occurrences + ' occurrence(s)' : ''))));
}

const drawn = new Map(); // key -> { sig, tr }: a row that did not change keeps its element
function render(changed) {
  renderTabs();
  const body = $('rows');
  const list = visible();
  const nodes = [];
  for (const it of list) {
    const k = key(it);
    const sig = JSON.stringify(it) + open.has(k);
    let d = drawn.get(k);
    if (!d || d.sig !== sig) drawn.set(k, d = { sig, tr: rowOf(it) });
    if (changed && changed.has(k)) {
      const tr = d.tr;
      tr.classList.add('flash');
      tr.addEventListener('animationend', () => tr.classList.remove('flash'), { once: true });
    }
    nodes.push(d.tr);
    if (open.has(k)) nodes.push(detailOf(it));
  }
  if (nodes.length !== body.children.length || nodes.some((n, i) => body.children[i] !== n)) body.replaceChildren(...nodes);
  $('empty').hidden = list.length > 0;
}

// ---- sparklines ----

const SVG = 'http://www.w3.org/2000/svg';
function sparkline(k) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', '120');
  svg.setAttribute('height', '28');
  svg.setAttribute('viewBox', '0 0 120 28');
  svg.setAttribute('data-key', k);
  svg.setAttribute('role', 'img');
  fillSpark(svg, trends.get(k));
  return svg;
}

function fillSpark(svg, points) {
  svg.replaceChildren();
  if (!points || !points.length) return;
  const vals = points.flatMap((p) => [p.our_price, p.market_low]).filter((v) => v != null);
  if (!vals.length) return;
  const lo = Math.min(...vals), hi = Math.max(...vals), span = hi - lo || 1;
  const t0 = points[0].t ? Date.parse(points[0].t) : 0, t1 = Date.parse(points[points.length - 1].t) || t0;
  const x = (p, i) => (t1 > t0 ? (Date.parse(p.t) - t0) / (t1 - t0) : points.length > 1 ? i / (points.length - 1) : 0.5) * 116 + 2;
  const y = (v) => 26 - ((v - lo) / span) * 24;
  for (const [field, cls] of [['market_low', 'low'], ['our_price', 'ours']]) {
    const pts = points.map((p, i) => (p[field] == null ? null : x(p, i).toFixed(1) + ',' + y(p[field]).toFixed(1))).filter(Boolean);
    if (pts.length === 1) { const yv = pts[0].split(',')[1]; pts.splice(0, 1, '2,' + yv, '118,' + yv); } // one point: a level
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('class', cls);
    line.setAttribute('points', pts.join(' '));
    svg.append(line);
  }
  const title = document.createElementNS(SVG, 'title');
  title.textContent = 'our price (blue) against the market low (orange), ' + points.length + ' points';
  svg.append(title);
}

function drawSpark(k) {
  for (const svg of document.querySelectorAll('svg.spark')) if (svg.getAttribute('data-key') === k) fillSpark(svg, trends.get(k));
}

// ---- acknowledge ----

function token() {
  let t = sessionStorage.getItem(TOKEN_KEY);
  if (!t) {
    t = (window.prompt('The acknowledge token ([serve] token_file):') || '').trim();
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
  }
  return t;
}

async function acknowledge(id, action, extra, it) {
  const t = token();
  if (!t) return;
  const r = await fetch('/api/notifications/acknowledge', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + t },
    body: JSON.stringify(Object.assign({ id, action, by: 'dashboard' }, extra || {})),
  });
  const body = await r.json().catch(() => ({}));
  if (r.status === 401 || r.status === 403) sessionStorage.removeItem(TOKEN_KEY);
  if (!r.ok) { say(action + ': ' + (body.error || r.status)); return; }
  say('');
  await loadAsin(it.asin);
}

// ---- start ----

document.addEventListener('DOMContentLoaded', () => {
  connect(); // before the first read: nothing committed meanwhile is missed
  loadAll().catch((e) => say('unable to load the notifications: ' + e.message));
  loadWorkers();
  setInterval(loadWorkers, 15000);
});
