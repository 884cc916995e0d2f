#!/usr/bin/env node
// Wait for an SQS endpoint to answer, then create (idempotently) a queue and its
// dead-letter queue, and print their URLs as shell assignments.
//
//   node setup.mjs --endpoint http://127.0.0.1:4566 [--queue bb] [--dlq bb-dlq]
//                  [--max-receive 3] [--visibility 120] [--wait-ready 20]
//
// Output (stdout):
//   BB_SQS_QUEUE_URL=http://127.0.0.1:4566/000000000000/bb
//   BB_SQS_DLQ_URL=http://127.0.0.1:4566/000000000000/bb-dlq
//
// Each queue is created without attributes (which CreateQueue treats as "return
// the existing queue") and then given its attributes with SetQueueAttributes, so
// a re-run converges instead of failing with QueueNameExists.
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import { die, intOpt, makeClient, parseArgs, sdkError } from "./common.mjs";

const PROG = "setup.mjs";
const USAGE =
  "usage: node setup.mjs --endpoint URL [--queue bb] [--dlq bb-dlq] [--max-receive 3]\n" +
  "                      [--visibility 120] [--wait-ready SECONDS]\n";
const { opts, args } = parseArgs(PROG, USAGE, {
  "--endpoint": "value",
  "--queue": "value",
  "--dlq": "value",
  "--max-receive": "value",
  "--visibility": "value",
  "--wait-ready": "value",
});
if (args.length) die(PROG, `unexpected argument ${args[0]}\n${USAGE}`, 2);
if (!opts.endpoint) die(PROG, `--endpoint is required\n${USAGE}`, 2);
const queue = opts.queue ?? "bb";
const dlqName = opts.dlq ?? `${queue}-dlq`;
const maxReceive = intOpt(PROG, "max-receive", opts["max-receive"] ?? "3", 1, 1000);
const visibility = intOpt(PROG, "visibility", opts.visibility ?? "120", 0, 43200);
const waitReady = intOpt(PROG, "wait-ready", opts["wait-ready"] ?? "20", 0, 600);

process.env.AWS_ENDPOINT_URL_SQS = opts.endpoint;
const sqs = makeClient();

// Readiness: GET /health (fauxqs) until 200, bounded.
async function waitHealthy() {
  const deadline = Date.now() + waitReady * 1000;
  let last = "no attempt";
  for (;;) {
    try {
      const res = await fetch(new URL("/health", opts.endpoint), {
        signal: AbortSignal.timeout(2000),
      });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err.cause?.code ?? err.message;
    }
    if (Date.now() >= deadline) {
      die(PROG, `${opts.endpoint} did not answer GET /health within ${waitReady}s (last: ${last})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function ensureQueue(name, attributes) {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (attributes) {
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  }
  return QueueUrl;
}

try {
  await waitHealthy();
  const dlqUrl = await ensureQueue(dlqName);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
  );
  const redrive = JSON.stringify({ deadLetterTargetArn: Attributes.QueueArn, maxReceiveCount: maxReceive });
  const queueUrl = await ensureQueue(queue, {
    RedrivePolicy: redrive,
    VisibilityTimeout: String(visibility),
  });
  // Check that the attributes really stuck.
  const got = (
    await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["RedrivePolicy", "VisibilityTimeout"],
      }),
    )
  ).Attributes;
  const rp = JSON.parse(got.RedrivePolicy ?? "{}");
  if (
    got.VisibilityTimeout !== String(visibility) ||
    rp.deadLetterTargetArn !== Attributes.QueueArn ||
    Number(rp.maxReceiveCount) !== maxReceive
  ) {
    die(PROG, `queue ${queue} attributes did not stick: ${JSON.stringify(got)}`);
  }
  process.stdout.write(`BB_SQS_QUEUE_URL=${queueUrl}\nBB_SQS_DLQ_URL=${dlqUrl}\n`);
} catch (err) {
  die(PROG, sdkError(err));
}
