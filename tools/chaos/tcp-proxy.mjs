#!/usr/bin/env node
// tcp-proxy.mjs: a TCP proxy for fault injection (scripts/chaos), in front of
// PostgreSQL: it listens on 127.0.0.1:PORT and joins each connection to the
// server's Unix socket (or to HOST:PORT). On SIGUSR1 it resets every
// connection open at that moment, both sides, with a TCP RST (as a NAT box or
// a load balancer that forgets its flows does): the client sees "connection
// reset by peer" mid-query or mid-transaction, the server a client gone
// (over a Unix socket, which has no RST, a plain close).
// Connections made afterwards pass as before.
//
//   node tcp-proxy.mjs --port PORT (--unix PATH | --upstream HOST:PORT)
//                      [--ready-file FILE] [--log FILE]
//
// The log gets one line per event: "open N", "reset K" (K connections reset
// by a SIGUSR1), "upstream-error N MESSAGE". SIGTERM and SIGINT stop it.
// Only node's own modules: nothing to install.
import net from "node:net";
import fs from "node:fs";

const USAGE =
  "usage: node tcp-proxy.mjs --port PORT (--unix PATH | --upstream HOST:PORT) [--ready-file FILE] [--log FILE]\n";
const opts = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const name = argv[i];
  if (!["--port", "--unix", "--upstream", "--ready-file", "--log"].includes(name) || i + 1 >= argv.length) {
    process.stderr.write(USAGE);
    process.exit(64);
  }
  opts[name.slice(2).replace("-", "_")] = argv[i + 1];
}
const port = Number(opts.port);
if (!Number.isInteger(port) || port < 1 || port > 65535 || !!opts.unix === !!opts.upstream) {
  process.stderr.write(USAGE);
  process.exit(64);
}
const log = (line) => {
  if (opts.log) fs.appendFileSync(opts.log, `${new Date().toISOString()} ${line}\n`);
};
const upstream = () => {
  if (opts.unix) return net.connect({ path: opts.unix });
  const i = opts.upstream.lastIndexOf(":");
  return net.connect({ host: opts.upstream.slice(0, i), port: Number(opts.upstream.slice(i + 1)) });
};

const open = new Set(); // [client, server] of each live connection
let serial = 0;
const server = net.createServer((client) => {
  const n = ++serial;
  const up = upstream();
  const pair = [client, up];
  open.add(pair);
  log(`open ${n}`);
  client.pipe(up);
  up.pipe(client);
  const done = () => {
    open.delete(pair);
    client.destroy();
    up.destroy();
  };
  client.on("error", done).on("close", done);
  up.on("error", (err) => {
    log(`upstream-error ${n} ${err.code || err.message}`);
    done();
  }).on("close", done);
});

process.on("SIGUSR1", () => {
  const pairs = [...open];
  open.clear();
  for (const [client, up] of pairs) {
    client.resetAndDestroy();
    // a Unix socket has no RST: the server just sees its client go
    if (opts.unix) up.destroy();
    else up.resetAndDestroy();
  }
  log(`reset ${pairs.length}`);
});
const stop = () => process.exit(0);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

server.listen(port, "127.0.0.1", () => {
  if (opts.ready_file) fs.writeFileSync(opts.ready_file, `${process.pid}\n`);
});
server.on("error", (err) => {
  process.stderr.write(`tcp-proxy.mjs: unable to listen on 127.0.0.1:${port}: ${err.message}\n`);
  process.exit(69);
});
