#!/usr/bin/env node
// Receive messages from an SQS queue and print them, deleting them unless --keep.
//
//   node receive.mjs QUEUE_URL [--max N] [--wait S] [--visibility S] [--keep] [--body-only]
//
// Repeats ReceiveMessage (up to 10 per call) until N messages (default 10) were
// received or a call returns none.  --wait is WaitTimeSeconds for each call
// (0..20, default 0: stop as soon as the queue has nothing visible).
// --visibility sets VisibilityTimeout for the received messages (0..43200).
//
// Output: one JSON object per message and line:
//   {"MessageId":..,"Body":..,"Attributes":{..},"MessageAttributes":{..}}
// Attributes are the system attributes (All: ApproximateReceiveCount,
// SentTimestamp, ApproximateFirstReceiveTimestamp, SenderId, ...);
// MessageAttributes as in the API, a Binary value as base64.  Body is the exact
// string (JSON escapes only what JSON must).
// --body-only prints each raw body followed by "\n" instead (so the output of
// `send.mjs < f; receive.mjs --body-only` compares byte-for-byte with f, in
// receive order).
//
// Messages are deleted (DeleteMessageBatch) after they were printed.
// Exit status 0 also when nothing was received.  Environment: see common.mjs.
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { die, intOpt, makeClient, parseArgs, sdkError } from "./common.mjs";

const PROG = "receive.mjs";
const USAGE =
  "usage: node receive.mjs QUEUE_URL [--max N] [--wait S] [--visibility S] [--keep] [--body-only]\n";
const { opts, args } = parseArgs(PROG, USAGE, {
  "--max": "value",
  "--wait": "value",
  "--visibility": "value",
  "--keep": "flag",
  "--body-only": "flag",
});
if (args.length !== 1) die(PROG, USAGE.trimEnd(), 2);
const queueUrl = args[0];
const max = intOpt(PROG, "max", opts.max ?? "10", 1, 1_000_000);
const wait = intOpt(PROG, "wait", opts.wait ?? "0", 0, 20);
const visibility = intOpt(PROG, "visibility", opts.visibility, 0, 43200);

const sqs = makeClient(queueUrl);

function write(s) {
  return new Promise((resolve, reject) =>
    process.stdout.write(s, (err) => (err ? reject(err) : resolve())),
  );
}

function messageAttributes(mas) {
  if (!mas) return {};
  const out = {};
  for (const [name, v] of Object.entries(mas)) {
    const o = { DataType: v.DataType };
    if (v.StringValue !== undefined) o.StringValue = v.StringValue;
    if (v.BinaryValue !== undefined) o.BinaryValue = Buffer.from(v.BinaryValue).toString("base64");
    out[name] = o;
  }
  return out;
}

let received = 0;
try {
  while (received < max) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - received),
        WaitTimeSeconds: wait,
        VisibilityTimeout: visibility,
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
    );
    const msgs = r.Messages ?? [];
    if (msgs.length === 0) break;
    let text = "";
    for (const m of msgs) {
      text += opts["body-only"]
        ? `${m.Body}\n`
        : JSON.stringify({
            MessageId: m.MessageId,
            Body: m.Body,
            Attributes: m.Attributes ?? {},
            MessageAttributes: messageAttributes(m.MessageAttributes),
          }) + "\n";
    }
    await write(text);
    received += msgs.length;
    if (!opts.keep) {
      const d = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: msgs.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      if (d.Failed?.length) {
        die(PROG, `DeleteMessageBatch failed for ${d.Failed.length}: ${JSON.stringify(d.Failed)}`);
      }
    }
  }
} catch (err) {
  die(PROG, `after ${received} message(s): ${sdkError(err)}`);
}
process.stderr.write(`${PROG}: received ${received} message(s)${opts.keep ? " (kept)" : ""}\n`);
