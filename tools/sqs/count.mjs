#!/usr/bin/env node
// Print how many messages a queue holds: ApproximateNumberOfMessages +
// ApproximateNumberOfMessagesNotVisible, as one integer.
//
//   node count.mjs QUEUE_URL [--json]
//
// --json prints {"ApproximateNumberOfMessages":N,"ApproximateNumberOfMessagesNotVisible":N,
//                "ApproximateNumberOfMessagesDelayed":N,"Total":N} instead
// (Total = visible + not visible; delayed messages are not in it).
// Environment: see common.mjs.
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { die, makeClient, parseArgs, sdkError } from "./common.mjs";

const PROG = "count.mjs";
const USAGE = "usage: node count.mjs QUEUE_URL [--json]\n";
const { opts, args } = parseArgs(PROG, USAGE, { "--json": "flag" });
if (args.length !== 1) die(PROG, USAGE.trimEnd(), 2);
const queueUrl = args[0];

const sqs = makeClient(queueUrl);
try {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  const visible = Number(a.ApproximateNumberOfMessages ?? 0);
  const notVisible = Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
  const delayed = Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  const total = visible + notVisible;
  process.stdout.write(
    opts.json
      ? JSON.stringify({
          ApproximateNumberOfMessages: visible,
          ApproximateNumberOfMessagesNotVisible: notVisible,
          ApproximateNumberOfMessagesDelayed: delayed,
          Total: total,
        }) + "\n"
      : `${total}\n`,
  );
} catch (err) {
  die(PROG, sdkError(err));
}
