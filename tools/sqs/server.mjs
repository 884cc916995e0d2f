#!/usr/bin/env node
// Run the fauxqs SQS emulator bound to a loopback address only.
//
//   node tools/sqs/server.mjs [--port 4566] [--host 127.0.0.1] [--ready-file PATH]
//
// Why not the `fauxqs` CLI: its startFauxqs() always listens on 0.0.0.0 and
// builds queue URLs as http://sqs.<region>.localhost:<port>/000000000000/<name>,
// a host name that does not resolve on Debian (nsswitch "files dns").  Here we
// build the same fastify app with buildApp(), listen on 127.0.0.1, and give it
// an SqsStore that builds queue URLs (for the default region) from the request's
// Host header: CreateQueue sent to http://127.0.0.1:4566 yields
// http://127.0.0.1:4566/000000000000/<name>.
//
// Two small fidelity fixes are applied to fauxqs 1.9.2 (see applyFixes below;
// --pristine turns them off):
//  * message bodies: fauxqs tests bodies with a non-Unicode regex, so every
//    character outside the BMP (emoji, U+10000..U+10FFFF) is rejected with
//    InvalidMessageContents; real SQS accepts them.
//  * GetQueueAttributes: fauxqs only returns expired in-flight messages to the
//    queue on a receive, so ApproximateNumberOfMessages(NotVisible) stays stale
//    after a visibility timeout; we run its timer pass first.
//
// Environment: FAUXQS_LOGGER=false disables the per-request log lines.
// SIGTERM/SIGINT close the server (in-flight long polls are cancelled).
import { writeFileSync, renameSync } from "node:fs";
import { buildApp } from "fauxqs";
import { die, listenOpts, parseArgs } from "./common.mjs";
// SqsStore is not in fauxqs' package "exports"; import the file of the exact
// pinned version (package-lock.json) directly.  Same URL as app.js imports, so
// it is the same module instance.
const { SqsStore } = await import(
  new URL("./node_modules/fauxqs/dist/sqs/sqsStore.js", import.meta.url).href
);

const PROG = "server.mjs";
const USAGE = "usage: node server.mjs [--port N] [--host 127.0.0.1] [--ready-file PATH] [--pristine]\n";
const parsed = parseArgs(PROG, USAGE, {
  "--port": "value",
  "--host": "value",
  "--ready-file": "value",
  "--pristine": "flag",
});
if (parsed.args.length) die(PROG, `unknown argument ${parsed.args[0]}\n${USAGE}`, 2);
const opts = {
  ...listenOpts(PROG, parsed.opts),
  readyFile: parsed.opts["ready-file"],
  pristine: parsed.opts.pristine === true,
};

const region = process.env.FAUXQS_DEFAULT_REGION || "us-east-1";
const sqsStore = new SqsStore();
sqsStore.region = region;
// Queue URLs: http://<request Host>/000000000000/<name> for the default region.
// A queue created with another region in the SigV4 credential scope keeps
// fauxqs' own form (http://sqs.<region>.localhost:<port>/...), so the same name
// in two regions never maps to one URL (fauxqs looks queues up by exact URL).
const origBuildQueueUrl = sqsStore.buildQueueUrl.bind(sqsStore);
sqsStore.host = "localhost";
sqsStore.buildQueueUrl = (name, port, requestHost, queueRegion) =>
  queueRegion === region
    ? `http://${requestHost}/000000000000/${name}`
    : origBuildQueueUrl(name, port, requestHost, queueRegion);

const logger = process.env.FAUXQS_LOGGER !== "false";
const app = buildApp({ logger, stores: { sqsStore } });

async function applyFixes() {
  const types = await import(
    new URL("./node_modules/fauxqs/dist/sqs/sqsTypes.js", import.meta.url).href
  );
  // Same set as AWS: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
  const invalid = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
  types.INVALID_MESSAGE_BODY_CHAR.test = (s) => invalid.test(s);
  app.addHook("preHandler", async (request) => {
    if (request.headers["x-amz-target"] === "AmazonSQS.GetQueueAttributes") {
      sqsStore.processAllTimers();
    }
  });
}
if (!opts.pristine) await applyFixes();

let closing = false;
async function shutdown(sig) {
  if (closing) return;
  closing = true;
  process.stderr.write(`server.mjs: ${sig}, closing\n`);
  const t = setTimeout(() => process.exit(0), 3000);
  t.unref();
  try {
    await app.close();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

try {
  await app.listen({ port: opts.port, host: opts.host });
} catch (err) {
  process.stderr.write(`server.mjs: cannot listen on ${opts.host}:${opts.port}: ${err.message}\n`);
  process.exit(1);
}
const addr = app.server.address();
const info = { pid: process.pid, host: addr.address, port: addr.port };
process.stderr.write(`server.mjs: fauxqs listening on http://${addr.address}:${addr.port}\n`);
if (opts.readyFile) {
  const tmp = `${opts.readyFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(info) + "\n");
  renameSync(tmp, opts.readyFile);
}
