#!/usr/bin/env node
// Send each line of standard input as one SQS message.
//
//   node send.mjs QUEUE_URL [--attr NAME[:TYPE]=VALUE]... [--delay S] [--batch]
//
// A line is the bytes up to (not including) "\n"; a last line without "\n" is
// sent too.  Bodies are byte-exact: nothing else is stripped ("\r" stays, a
// leading UTF-8 BOM stays).  Every line must be valid UTF-8 and non-empty (SQS
// rejects empty bodies); all lines are checked before anything is sent.
//
// --attr adds a message attribute to every message; TYPE is String (default),
//        Number, Binary (VALUE is base64) or a custom type like String.json.
//        Repeatable.
// --delay  DelaySeconds for every message (0..900).
// --batch  use SendMessageBatch (up to 10 entries and 1 MiB per request)
//          instead of one SendMessage per line.
//
// Prints one MessageId per line, in input order.  Environment: see common.mjs.
import { SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { die, intOpt, makeClient, parseArgs, readStdin, sdkError } from "./common.mjs";

const PROG = "send.mjs";
const USAGE =
  "usage: node send.mjs QUEUE_URL [--attr NAME[:TYPE]=VALUE]... [--delay S] [--batch] < lines\n";
const { opts, args } = parseArgs(PROG, USAGE, {
  "--attr": "list",
  "--delay": "value",
  "--batch": "flag",
});
if (args.length !== 1) die(PROG, USAGE.trimEnd(), 2);
const queueUrl = args[0];
const delay = intOpt(PROG, "delay", opts.delay, 0, 900);

function parseAttr(spec) {
  const eq = spec.indexOf("=");
  if (eq <= 0) die(PROG, `--attr wants NAME[:TYPE]=VALUE, got ${JSON.stringify(spec)}`, 2);
  const left = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  const colon = left.indexOf(":");
  const name = colon < 0 ? left : left.slice(0, colon);
  const type = colon < 0 ? "String" : left.slice(colon + 1);
  if (!name) die(PROG, `--attr: empty name in ${JSON.stringify(spec)}`, 2);
  const base = type.split(".")[0];
  if (base === "String" || base === "Number") return [name, { DataType: type, StringValue: value }];
  if (base === "Binary") {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
      die(PROG, `--attr ${name}: Binary value must be base64`, 2);
    }
    return [name, { DataType: type, BinaryValue: Buffer.from(value, "base64") }];
  }
  die(PROG, `--attr ${name}: TYPE must be String, Number or Binary (optionally .suffix), got ${type}`, 2);
}
let attributes;
for (const spec of opts.attr ?? []) {
  const [name, val] = parseAttr(spec);
  (attributes ??= {})[name] = val;
}

// Split stdin into lines and decode each strictly.
const input = await readStdin();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const bodies = [];
let start = 0;
let lineNo = 0;
while (start < input.length) {
  let end = input.indexOf(0x0a, start);
  if (end < 0) end = input.length;
  lineNo++;
  const bytes = input.subarray(start, end);
  if (bytes.length === 0) die(PROG, `line ${lineNo} is empty (SQS rejects empty bodies); nothing sent`, 2);
  try {
    bodies.push(decoder.decode(bytes));
  } catch {
    die(PROG, `line ${lineNo} is not valid UTF-8; nothing sent`, 2);
  }
  start = end + 1;
}
if (bodies.length === 0) die(PROG, "no input lines; nothing sent", 2);

const sqs = makeClient(queueUrl);
const out = [];

function attrSize() {
  let n = 0;
  for (const [k, v] of Object.entries(attributes ?? {})) {
    n += Buffer.byteLength(k) + Buffer.byteLength(v.DataType);
    n += v.StringValue !== undefined ? Buffer.byteLength(v.StringValue) : v.BinaryValue.length;
  }
  return n;
}

try {
  if (!opts.batch) {
    for (const body of bodies) {
      const r = await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          MessageAttributes: attributes,
          DelaySeconds: delay,
        }),
      );
      out.push(r.MessageId);
    }
  } else {
    const MAX_BATCH_BYTES = 1_048_576;
    const extra = attrSize();
    let i = 0;
    while (i < bodies.length) {
      const entries = [];
      let size = 0;
      while (i < bodies.length && entries.length < 10) {
        const s = Buffer.byteLength(bodies[i]) + extra;
        if (entries.length > 0 && size + s > MAX_BATCH_BYTES) break;
        entries.push({
          Id: `m${i}`,
          MessageBody: bodies[i],
          MessageAttributes: attributes,
          DelaySeconds: delay,
        });
        size += s;
        i++;
      }
      const r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      const byId = new Map((r.Successful ?? []).map((s) => [s.Id, s.MessageId]));
      for (const e of entries) if (byId.has(e.Id)) out.push(byId.get(e.Id));
      if (r.Failed?.length) {
        for (const f of r.Failed) {
          process.stderr.write(`${PROG}: line ${Number(f.Id.slice(1)) + 1}: ${f.Code}: ${f.Message}\n`);
        }
        for (const id of out) process.stdout.write(`${id}\n`);
        die(PROG, `${r.Failed.length} message(s) of a batch failed; ${out.length} sent`);
      }
    }
  }
} catch (err) {
  for (const id of out) process.stdout.write(`${id}\n`);
  die(PROG, `after ${out.length} of ${bodies.length} message(s): ${sdkError(err)}`);
}
for (const id of out) process.stdout.write(`${id}\n`);
process.stderr.write(`${PROG}: sent ${out.length} message(s)\n`);
