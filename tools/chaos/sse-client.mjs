#!/usr/bin/env node
// sse-client.mjs: a client of bb-serve's event stream for scripts/chaos. It
// follows GET URL from event id --since (default 0) until SIGTERM or SIGINT,
// and whenever the connection drops (bb-serve killed, a read error, nothing
// received for --idle-ms, not even a heartbeat comment) it connects again,
// every --retry-ms until it can, with Last-Event-ID: the id of the last
// event it received whole.
//
//   node sse-client.mjs --url URL --out FILE [--since ID] [--retry-ms MS]
//                       [--idle-ms MS] [--status FILE]
//
// FILE gets one line per event, as it arrives: its id, the created_at of
// its data in Unix milliseconds (or -), and when it arrived (Unix ms),
// tab-separated. On SIGTERM or SIGINT the status FILE gets one KEY=VALUE a
// line: connections (responses 200 with a stream), reconnects (connections
// after the first), refused (attempts that got no stream), drops (streams
// that ended under it), events, last_id. Only node's own modules.
import http from "node:http";
import fs from "node:fs";

const USAGE =
  "usage: node sse-client.mjs --url URL --out FILE [--since ID] [--retry-ms MS] [--idle-ms MS] [--status FILE]\n";
const opts = { since: "0", retry_ms: "200", idle_ms: "5000" };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const name = argv[i];
  if (!["--url", "--out", "--since", "--retry-ms", "--idle-ms", "--status"].includes(name) || i + 1 >= argv.length) {
    process.stderr.write(USAGE);
    process.exit(64);
  }
  opts[name.slice(2).replace("-", "_")] = argv[i + 1];
}
const retryMs = Number(opts.retry_ms), idleMs = Number(opts.idle_ms);
if (!opts.url || !opts.out || !/^[0-9]+$/.test(opts.since) || !(retryMs > 0) || !(idleMs > 0)) {
  process.stderr.write(USAGE);
  process.exit(64);
}

const out = fs.openSync(opts.out, "a");
const counts = { connections: 0, reconnects: 0, refused: 0, drops: 0, events: 0 };
let lastId = opts.since;
let req = null, idleTimer = null, retryTimer = null, stopping = false;

// one event block (its lines, the blank line gone): record it if it has an id
function dispatch(block, at) {
  let id = null, data = "";
  for (const line of block.split(/\r?\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id") id = value;
    else if (field === "data") data += (data ? "\n" : "") + value;
  }
  if (id === null || id === "") return;
  let created = "-";
  try {
    const t = Date.parse(JSON.parse(data).created_at);
    if (Number.isFinite(t)) created = String(t);
  } catch {
    // not JSON: the id still counts
  }
  lastId = id;
  counts.events++;
  fs.writeSync(out, `${id}\t${created}\t${at}\n`);
}

function later() {
  if (stopping || retryTimer) return;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    connect();
  }, retryMs);
}

function connect() {
  let streaming = false, ended = false, buf = "";
  const gone = () => {
    if (ended || stopping) return;
    ended = true;
    clearTimeout(idleTimer);
    if (streaming) counts.drops++;
    else counts.refused++;
    req = null;
    later();
  };
  const idle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => r.destroy(new Error("idle")), idleMs);
  };
  const r = http.get(opts.url, { headers: { Accept: "text/event-stream", "Last-Event-ID": lastId } }, (res) => {
    if (res.statusCode !== 200) {
      res.resume();
      res.on("end", () => gone());
      res.on("error", () => gone());
      return;
    }
    streaming = true;
    counts.connections++;
    if (counts.connections > 1) counts.reconnects++;
    res.setEncoding("utf8");
    idle();
    res.on("data", (chunk) => {
      const at = Date.now();
      idle();
      buf += chunk;
      let end;
      while ((end = buf.search(/\r?\n\r?\n/)) >= 0) {
        const sep = buf.slice(end).match(/^\r?\n\r?\n/)[0].length;
        dispatch(buf.slice(0, end), at);
        buf = buf.slice(end + sep);
      }
    });
    res.on("end", () => gone());
    res.on("error", () => gone());
    res.on("close", () => gone());
  });
  req = r;
  r.on("error", () => gone());
  idle();
}

function stop() {
  stopping = true;
  clearTimeout(retryTimer);
  clearTimeout(idleTimer);
  if (req) req.destroy();
  fs.closeSync(out);
  if (opts.status) {
    const lines = Object.entries(counts).map(([k, v]) => `${k}=${v}`);
    fs.writeFileSync(opts.status, `${lines.join("\n")}\nlast_id=${lastId}\n`);
  }
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
connect();
