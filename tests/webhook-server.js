// webhook-server.js PORTFILE LOG REPLY...: a webhook endpoint for the
// bb-alert suite. Listens on a free port on 127.0.0.1 (written to PORTFILE
// once listening), appends each request to LOG as one JSON line
// {idempotency_key, body}, and answers the Nth request with the Nth REPLY
// (the last one again after that): "200", "500", or "429:SECONDS" for a 429
// with Retry-After.
'use strict';
const http = require('http');
const fs = require('fs');
const [portFile, log, ...replies] = process.argv.slice(2);
let n = 0;
const server = http.createServer((req, res) => {
	let body = '';
	req.on('data', (chunk) => { body += chunk; });
	req.on('end', () => {
		fs.appendFileSync(log, JSON.stringify({ idempotency_key: req.headers['idempotency-key'] || null,
			content_type: req.headers['content-type'] || null, body: JSON.parse(body) }) + '\n');
		const [code, after] = (replies[Math.min(n++, replies.length - 1)] || '200').split(':');
		const headers = after ? { 'Retry-After': after } : {};
		res.writeHead(Number(code), headers);
		res.end();
	});
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
process.on('SIGTERM', () => process.exit(0));
