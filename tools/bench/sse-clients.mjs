// sse-clients.mjs URL CLIENTS EXPECT SECONDS: open CLIENTS streams on URL,
// each reading until it has EXPECT events or SECONDS pass; print the
// latency from each event's created_at (its commit, as the bench writer
// sets it) to its arrival, over every client: "received N of M p50 P p99 Q
// max X ms". Node's own http module only: nothing to install.
import http from 'node:http';

const [url, clientsArg, expectArg, secondsArg] = process.argv.slice(2);
const clients = Number(clientsArg), expect = Number(expectArg), seconds = Number(secondsArg);
const lat = [];
let done = 0, received = 0;
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const reqs = [];

function client() {
  let buf = '', got = 0;
  const req = http.get(url, { agent }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      const now = Date.now();
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const at = frame.indexOf('"created_at":"'); // no JSON.parse: the client must not be the bottleneck
        if (at < 0) continue;
        lat.push(now - Date.parse(frame.slice(at + 14, at + 38)));
        got++, received++;
        if (got === expect) { finish(); req.destroy(); }
      }
    });
    res.on('end', finish);
  });
  req.on('error', () => {});
  let over = false;
  function finish() { if (!over) { over = true; done++; if (done === clients) report(); } }
  reqs.push(req);
}

function report() {
  lat.sort((a, b) => a - b);
  const q = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : NaN;
  console.log(`received ${received} of ${clients * expect} p50 ${q(0.5)} p99 ${q(0.99)} max ${lat[lat.length - 1]} ms`);
  process.exit(0);
}

for (let i = 0; i < clients; i++) client();
console.error(`sse-clients: ${clients} connected`);
setTimeout(() => { for (const r of reqs) r.destroy(); report(); }, seconds * 1000);
