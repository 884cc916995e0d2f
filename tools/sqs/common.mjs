// Shared helpers for the tools/sqs/*.mjs operator scripts.
//
// Client configuration comes from the environment that `scripts/sqs-local
// start|url` prints:
//   AWS_ENDPOINT_URL_SQS  endpoint (else AWS_ENDPOINT_URL, else the origin of
//                         the queue URL given on the command line)
//   AWS_REGION            region (default us-east-1)
//   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN]
//                         (default test/test; fauxqs does not check them)
// The SDK's "node >= 22 soon" notice on stderr is switched off.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { SQSClient } from "@aws-sdk/client-sqs";

export function die(prog, msg, code = 1) {
  process.stderr.write(`${prog}: ${msg}\n`);
  process.exit(code);
}

// Minimal option parser: spec maps "--name" to "flag" | "value" | "list".
// Returns { opts, args }; unknown options are a usage error.
export function parseArgs(prog, usage, spec, argv = process.argv.slice(2)) {
  const opts = {};
  const args = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h" || a === "--help") {
      process.stdout.write(usage);
      process.exit(0);
    }
    if (a === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq > 0 ? a.slice(0, eq) : a;
      const kind = spec[name];
      if (!kind) die(prog, `unknown option ${name}\n${usage}`, 2);
      const key = name.slice(2);
      if (kind === "flag") {
        if (eq > 0) die(prog, `${name} takes no value`, 2);
        opts[key] = true;
        continue;
      }
      let v;
      if (eq > 0) v = a.slice(eq + 1);
      else if (i + 1 < argv.length) v = argv[++i];
      else die(prog, `${name} needs a value`, 2);
      if (kind === "list") (opts[key] ??= []).push(v);
      else opts[key] = v;
      continue;
    }
    args.push(a);
  }
  return { opts, args };
}

// --port and --host of a local server, checked: loopback only, by design.
export function listenOpts(prog, opts, defaultPort = 4566) {
  const port = intOpt(prog, "port", opts.port ?? String(defaultPort), 0, 65535);
  const host = opts.host ?? "127.0.0.1";
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== "::1") {
    die(prog, `--host must be a loopback address, got ${host}`, 2);
  }
  return { port, host };
}

export function intOpt(prog, name, value, min, max) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    die(prog, `--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(value)}`, 2);
  }
  return n;
}

export function makeClient(queueUrl) {
  let endpoint = process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL;
  if (!endpoint && queueUrl) endpoint = new URL(queueUrl).origin;
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || "test",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "test",
  };
  if (process.env.AWS_SESSION_TOKEN) credentials.sessionToken = process.env.AWS_SESSION_TOKEN;
  return new SQSClient({
    endpoint,
    region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1",
    credentials,
    maxAttempts: 3,
  });
}

// Error text for an SDK failure: code, HTTP status and message.
export function sdkError(err) {
  const status = err?.$metadata?.httpStatusCode;
  return `${err?.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${err?.message ?? err}`;
}

export async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks);
}
