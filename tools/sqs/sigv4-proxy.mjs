#!/usr/bin/env node
// A checking proxy in front of the fauxqs emulator: it verifies the AWS
// Signature Version 4 of every request with AWS's own signer, can answer some
// requests with the faults SQS gives (throttling, 5xx, dropped connections,
// batch entries failed), forwards the rest to the emulator, and logs each
// request as one JSON line.  fauxqs itself never checks signatures.
//
//   node sigv4-proxy.mjs --upstream URL --log FILE [--port N] [--host 127.0.0.1]
//        [--ready-file PATH] [--region R] [--signed-headers LIST|any]
//        [--fault SPEC]... [--faults FILE] [--answer FILE]
//
// Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN
// from the environment (default test/test, no token); the region from --region,
// else AWS_REGION, else us-east-1.  The secret and the token are never logged.
//
// Verification, for each request, in this order; the first problem answers
// HTTP 403 with a JSON error ({"__type":"com.amazon.coral.service#CODE",
// "message":..}) and the header x-amzn-query-error: CODE;Sender, as AWS does:
//   * an Authorization header (else MissingAuthenticationTokenException) of
//     the form "AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=.."
//     and an X-Amz-Date (else IncompleteSignatureException);
//   * the access key id and the session token are the proxy's own: the token
//     header present exactly when the proxy has one, with its value (else
//     UnrecognizedClientException);
//   * the credential scope is DATE/REGION/sqs/aws4_request, DATE that of
//     X-Amz-Date, which is within 15 minutes of now (else
//     InvalidSignatureException);
//   * SignedHeaders is exactly --signed-headers, by default
//     content-type;host;x-amz-date;x-amz-target, with x-amz-security-token
//     added when the proxy has a token ("any": whatever the client signed,
//     as long as host and x-amz-date are among them), and each is present;
//   * an x-amz-content-sha256 header, if any, is the SHA-256 of the body;
//   * the signature equals the one SignatureV4 (@smithy/signature-v4, with
//     @aws-crypto/sha256-js) computes over the method, path, query, the signed
//     headers and the body, at the request's own X-Amz-Date (else
//     InvalidSignatureException).
//
// Faults (--fault SPEC, repeatable, or --faults FILE with one SPEC per line,
// '#' comments): ACTION:KIND[:COUNT].  ACTION is the X-Amz-Target action
// (ReceiveMessage, SendMessageBatch, ...) or * for any; COUNT is how many of
// the matching requests get the fault (default 1), or * for all of them.  Only
// requests whose signature verified count.  For each request the first rule
// (the --fault options in their order, then the lines of the --faults files)
// that matches and has some count left applies.  KIND:
//   throttle          400 com.amazon.coral.availability#ThrottlingException,
//                     x-amzn-query-error: Throttling;Sender
//   requestthrottled  400 com.amazonaws.sqs#RequestThrottled,
//                     x-amzn-query-error: AWS.SimpleQueueService.RequestThrottled;Sender
//   throttle403       403 com.amazon.coral.availability#ThrottlingException
//                     ("Rate exceeded"), without x-amzn-query-error
//   503               503 com.amazonaws.sqs#ServiceUnavailable,
//                     x-amzn-query-error: AWS.SimpleQueueService.ServiceUnavailable;Receiver
//   500               500 com.amazon.coral.service#InternalFailure
//   reset             the connection is closed without an answer (on a
//                     kept-alive connection, libcurl itself sends the request
//                     again at once, on a new one: this log shows both)
//   partial           (batch actions) the first entry is answered in Failed,
//                     SenderFault false, Code InternalError; the other
//                     entries go to the emulator, whose answer is merged in
//   refuse            (batch actions) likewise, but SenderFault true, Code
//                     InvalidMessageContents (SendMessageBatch) or
//                     ReceiptHandleIsInvalid (the others)
//   mixed             (batch actions) the first entry refused as by refuse,
//                     the second failed as by partial, the rest forwarded
//   answer            200 with the bytes of --answer FILE as the body, exactly
//                     (whatever they are: an answer of SQS's, or not JSON)
// A request that gets a fault never reaches the emulator, except for the
// entries that partial, refuse and mixed forward.
//
// The log: one JSON object per request, appended once it was answered:
//   {"seq":1,"t":MS,"action":"SendMessageBatch","verdict":"ok"|"bad",
//    "why":null|"..","code":null|"InvalidSignatureException",
//    "signed_headers":"content-type;host;x-amz-date;x-amz-target",
//    "scope":"20260101/us-east-1/sqs/aws4_request","token":false,
//    "fault":null|"throttle",..,"status":200,
//    "entries":[{"id":"0","ref":"1f2e.."}],"failed":["0"],"messages":N}
// entries (batch actions, and SendMessage/DeleteMessage/ChangeMessageVisibility
// as one entry): each entry's Id and ref, the first 16 hex digits of the
// SHA-256 of its MessageBody or ReceiptHandle (never the handle itself);
// failed: the Ids this proxy failed; messages: how many messages a
// ReceiveMessage returned.
//
// SIGTERM/SIGINT close the server.
import { appendFileSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { listenOpts, parseArgs } from "./common.mjs";

const PROG = "sigv4-proxy.mjs";
const USAGE =
  "usage: node sigv4-proxy.mjs --upstream URL --log FILE [--port N] [--host 127.0.0.1]\n" +
  "         [--ready-file PATH] [--region R] [--signed-headers LIST|any]\n" +
  "         [--fault ACTION:KIND[:COUNT]]... [--faults FILE] [--answer FILE]\n";

function usage(msg) {
  if (msg) process.stderr.write(`${PROG}: ${msg}\n`);
  process.stderr.write(USAGE);
  process.exit(2);
}

// ---- options ----

const parsed = parseArgs(PROG, USAGE, {
  "--port": "value",
  "--host": "value",
  "--upstream": "value",
  "--log": "value",
  "--ready-file": "value",
  "--region": "value",
  "--signed-headers": "value",
  "--fault": "list",
  "--faults": "list",
  "--answer": "value",
});
if (parsed.args.length) usage(`unknown argument ${parsed.args[0]}`);
const opts = {
  ...listenOpts(PROG, parsed.opts),
  upstream: parsed.opts.upstream,
  log: parsed.opts.log,
  readyFile: parsed.opts["ready-file"],
  region: parsed.opts.region,
  signedHeaders: parsed.opts["signed-headers"],
  faults: [...(parsed.opts.fault ?? [])],
};
for (const file of parsed.opts.faults ?? []) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    usage(`cannot read --faults ${file}: ${err.message}`);
  }
  for (const line of text.split("\n")) {
    const spec = line.replace(/#.*/, "").trim();
    if (spec) opts.faults.push(spec);
  }
}
let cannedAnswer = null;
if (parsed.opts.answer) {
  try {
    cannedAnswer = readFileSync(parsed.opts.answer);
  } catch (err) {
    usage(`cannot read --answer ${parsed.opts.answer}: ${err.message}`);
  }
}
if (!opts.upstream) usage("--upstream is needed");
if (!opts.log) usage("--log is needed");
let upstream;
try {
  upstream = new URL(opts.upstream);
} catch {
  usage(`--upstream is not a URL: ${opts.upstream}`);
}
if (upstream.protocol !== "http:") usage("--upstream must be an http:// URL");

const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID || "test",
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "test",
};
if (process.env.AWS_SESSION_TOKEN) credentials.sessionToken = process.env.AWS_SESSION_TOKEN;
const region = opts.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1";
const expectedSigned =
  opts.signedHeaders === "any"
    ? null
    : opts.signedHeaders ||
      (credentials.sessionToken
        ? "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        : "content-type;host;x-amz-date;x-amz-target");
// applyChecksum false: the signer must not add an x-amz-content-sha256 header
// of its own; the payload hash is that of the body received (verify() checks
// that a signed x-amz-content-sha256, which the signer takes as it is, says so).
const signer = new SignatureV4({ service: "sqs", region, credentials, sha256: Sha256, applyChecksum: false });

const BATCH = new Set(["SendMessageBatch", "DeleteMessageBatch", "ChangeMessageVisibilityBatch"]);
// What a fault answers instead of the emulator: status, __type, message and
// the x-amzn-query-error header, as SQS sends them.
const FAULT_ANSWERS = {
  throttle: [400, "com.amazon.coral.availability#ThrottlingException", "Rate exceeded", "Throttling;Sender"],
  requestthrottled: [400, "com.amazonaws.sqs#RequestThrottled", "Request is throttled.",
    "AWS.SimpleQueueService.RequestThrottled;Sender"],
  throttle403: [403, "com.amazon.coral.availability#ThrottlingException", "Rate exceeded"],
  503: [503, "com.amazonaws.sqs#ServiceUnavailable", "The request has failed due to a temporary failure of the server.",
    "AWS.SimpleQueueService.ServiceUnavailable;Receiver"],
  500: [500, "com.amazon.coral.service#InternalFailure",
    "The request processing has failed because of an unknown error, exception or failure."],
};
const ENTRY_KINDS = new Set(["partial", "refuse", "mixed"]);
const KINDS = new Set([...Object.keys(FAULT_ANSWERS), "reset", "answer", ...ENTRY_KINDS]);

const rules = opts.faults.map((spec) => {
  const m = /^([A-Za-z]+|\*):([a-z0-9]+)(?::(\d+|\*))?$/.exec(spec);
  if (!m) usage(`bad fault ${JSON.stringify(spec)}: want ACTION:KIND[:COUNT]`);
  const [, action, kind, count = "1"] = m;
  if (!KINDS.has(kind)) usage(`bad fault ${JSON.stringify(spec)}: unknown kind ${kind}`);
  if (kind === "answer" && !cannedAnswer) usage(`bad fault ${JSON.stringify(spec)}: answer needs --answer FILE`);
  if (ENTRY_KINDS.has(kind) && !BATCH.has(action)) {
    usage(`bad fault ${JSON.stringify(spec)}: ${kind} is for ${[...BATCH].join(", ")}`);
  }
  return { spec, action, kind, left: count === "*" ? Infinity : Number(count) };
});

function takeFault(action) {
  for (const r of rules) {
    if ((r.action === "*" || r.action === action) && r.left > 0) {
      r.left--;
      return r.kind;
    }
  }
  return null;
}

// ---- helpers ----

let seq = 0;
function log(entry) {
  appendFileSync(opts.log, JSON.stringify(entry) + "\n");
}

function ref(s) {
  return createHash("sha256").update(String(s ?? ""), "utf8").digest("hex").slice(0, 16);
}

function reply(res, status, headers, body) {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  res.writeHead(status, { ...headers, "content-length": buf.length });
  res.end(buf);
}

function awsError(res, status, type, message, queryError) {
  const headers = { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": randomUUID() };
  if (queryError) headers["x-amzn-query-error"] = queryError;
  reply(res, status, headers, { __type: type, message });
}

// X-Amz-Date 20260101T120000Z -> Date, or null.
function amzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s ?? "");
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return Number.isNaN(d.getTime()) ? null : d;
}

function safeEqual(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// The verdict on a request's signature: null when it verifies, else
// {status, code, why}.  Fills info.signed_headers, info.scope, info.token.
async function verify(req, url, body, info) {
  const bad = (code, why) => ({ status: 403, code, why });
  const auth = req.headers.authorization;
  info.token = req.headers["x-amz-security-token"] !== undefined;
  if (!auth) return bad("MissingAuthenticationTokenException", "Missing Authentication Token");
  const sp = auth.indexOf(" ");
  const algorithm = sp < 0 ? auth : auth.slice(0, sp);
  if (algorithm !== "AWS4-HMAC-SHA256") {
    return bad("IncompleteSignatureException", `Unsupported Authorization algorithm '${algorithm}'`);
  }
  const parts = {};
  for (const p of auth.slice(sp + 1).split(",")) {
    const eq = p.indexOf("=");
    if (eq > 0) parts[p.slice(0, eq).trim()] = p.slice(eq + 1).trim();
  }
  for (const k of ["Credential", "SignedHeaders", "Signature"]) {
    if (!parts[k]) return bad("IncompleteSignatureException", `Authorization header requires '${k}' parameter`);
  }
  info.signed_headers = parts.SignedHeaders;
  const xdate = req.headers["x-amz-date"];
  const date = amzDate(xdate);
  if (!date) {
    return bad("IncompleteSignatureException", "Authorization header requires existence of a valid 'X-Amz-Date' header");
  }
  const cred = parts.Credential.split("/");
  if (cred.length !== 5) return bad("IncompleteSignatureException", "Credential is not KEY/DATE/REGION/SERVICE/aws4_request");
  const [keyId, day, scopeRegion, service, terminator] = cred;
  info.scope = cred.slice(1).join("/");

  if (keyId !== credentials.accessKeyId) {
    return bad("UnrecognizedClientException", "The security token included in the request is invalid (unknown access key id)");
  }
  const token = req.headers["x-amz-security-token"];
  if (credentials.sessionToken && token === undefined) {
    return bad("UnrecognizedClientException", "The security token included in the request is invalid (no X-Amz-Security-Token)");
  }
  if (credentials.sessionToken && !safeEqual(token, credentials.sessionToken)) {
    return bad("UnrecognizedClientException", "The security token included in the request is invalid (another token)");
  }
  if (!credentials.sessionToken && token !== undefined) {
    return bad("UnrecognizedClientException", "The security token included in the request is invalid (a token for a key without one)");
  }
  if (day !== xdate.slice(0, 8)) {
    return bad("InvalidSignatureException", `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${xdate.slice(0, 8)}'`);
  }
  if (scopeRegion !== region) {
    return bad("InvalidSignatureException", `Credential should be scoped to a valid region, not '${scopeRegion}'`);
  }
  if (service !== "sqs") return bad("InvalidSignatureException", `Credential should be scoped to correct service: 'sqs', not '${service}'`);
  if (terminator !== "aws4_request") {
    return bad("InvalidSignatureException", `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'`);
  }
  if (Math.abs(Date.now() - date.getTime()) > 15 * 60 * 1000) {
    return bad("InvalidSignatureException", `Signature expired: ${xdate} is more than 15 minutes away from the server's time`);
  }
  const names = parts.SignedHeaders.split(";");
  if (expectedSigned !== null && parts.SignedHeaders !== expectedSigned) {
    return bad("InvalidSignatureException", `SignedHeaders '${parts.SignedHeaders}' is not '${expectedSigned}'`);
  }
  if (!names.includes("host") || !names.includes("x-amz-date")) {
    return bad("InvalidSignatureException", "SignedHeaders must include host and x-amz-date");
  }
  const headers = {};
  for (const n of names) {
    if (n !== n.toLowerCase() || req.headers[n] === undefined) {
      return bad("InvalidSignatureException", `signed header '${n}' is not in the request`);
    }
    headers[n] = req.headers[n];
  }
  // The payload hash is always that of the body received: a client's
  // x-amz-content-sha256 (which the signer would take as it is) must match it.
  const bodyHash = createHash("sha256").update(body).digest("hex");
  const claimed = req.headers["x-amz-content-sha256"];
  if (claimed !== undefined && claimed !== bodyHash) {
    return bad("InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const query = {};
  for (const [k, v] of url.searchParams) {
    if (query[k] === undefined) query[k] = v;
    else query[k] = [].concat(query[k], v);
  }
  const signed = await signer.sign(
    { method: req.method, protocol: "http:", hostname: url.hostname, port: url.port, path: url.pathname, query, headers, body },
    { signingDate: date, signableHeaders: new Set(names) },
  );
  const got = /Signature=([0-9a-f]+)/.exec(signed.headers.authorization)?.[1] ?? "";
  const rebuilt = /SignedHeaders=([^,]+)/.exec(signed.headers.authorization)?.[1];
  if (rebuilt !== parts.SignedHeaders) {
    return bad("InvalidSignatureException", `the rebuilt request signs '${rebuilt}', not '${parts.SignedHeaders}'`);
  }
  if (!safeEqual(got, parts.Signature)) {
    return bad(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  return null;
}

// Forward a request (body possibly rewritten) to the emulator:
// {status, headers, body: Buffer}.
function forward(req, path, body) {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: upstream.host, "content-length": String(body.length) };
    delete headers.connection;
    delete headers["keep-alive"];
    delete headers["transfer-encoding"];
    delete headers.expect;
    const up = http.request(
      { host: upstream.hostname, port: upstream.port || 80, method: req.method, path, headers },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    up.on("error", reject);
    up.end(body);
  });
}

function relayHeaders(h) {
  const out = { ...h };
  for (const k of ["connection", "keep-alive", "transfer-encoding", "content-length", "date"]) delete out[k];
  return out;
}

function failedEntry(action, id, senderFault) {
  if (senderFault) {
    return action === "SendMessageBatch"
      ? { Id: id, SenderFault: true, Code: "InvalidMessageContents", Message: "Invalid characters found in the message body." }
      : { Id: id, SenderFault: true, Code: "ReceiptHandleIsInvalid", Message: "The input receipt handle is invalid." };
  }
  return { Id: id, SenderFault: false, Code: "InternalError", Message: "We encountered an internal error. Please try again." };
}

function parseJson(buf) {
  try {
    return JSON.parse(buf.toString("utf8"));
  } catch {
    return undefined;
  }
}

// ---- the server ----

async function handle(req, res, body) {
  const info = { seq: ++seq, t: Date.now(), action: null, verdict: null, why: null, code: null,
    signed_headers: null, scope: null, token: false, fault: null, status: null };
  const url = new URL(req.url, "http://placeholder");
  const target = req.headers["x-amz-target"] ?? "";
  const action = target.startsWith("AmazonSQS.") ? target.slice("AmazonSQS.".length) : target || null;
  info.action = action;
  const doc = parseJson(body);
  if (doc && typeof doc === "object") {
    if (Array.isArray(doc.Entries)) {
      info.entries = doc.Entries.map((e) => ({ id: e?.Id, ref: ref(e?.MessageBody ?? e?.ReceiptHandle) }));
    } else if (doc.MessageBody !== undefined || doc.ReceiptHandle !== undefined) {
      info.entries = [{ id: null, ref: ref(doc.MessageBody ?? doc.ReceiptHandle) }];
    }
  }
  try {
    const verdict = await verify(req, url, body, info);
    if (verdict) {
      info.verdict = "bad";
      info.why = verdict.why;
      info.code = verdict.code;
      info.status = verdict.status;
      awsError(res, verdict.status, `com.amazon.coral.service#${verdict.code}`, verdict.why, `${verdict.code};Sender`);
      return;
    }
    info.verdict = "ok";
    const fault = takeFault(action);
    info.fault = fault;
    if (fault === "reset") {
      info.status = 0;
      req.socket.destroy();
      return;
    }
    if (fault === "answer") {
      info.status = 200;
      return reply(res, 200, { "content-type": "application/x-amz-json-1.0" }, cannedAnswer);
    }
    const canned = FAULT_ANSWERS[fault];
    if (canned) {
      info.status = canned[0];
      return awsError(res, ...canned);
    }
    let sendBody = body;
    let injected = [];
    if (fault && ENTRY_KINDS.has(fault)) {
      const entries = Array.isArray(doc?.Entries) ? doc.Entries : [];
      const n = fault === "mixed" ? 2 : 1;
      injected = entries.slice(0, n).map((e, k) =>
        failedEntry(action, e.Id, fault === "refuse" || (fault === "mixed" && k === 0)));
      info.failed = injected.map((f) => f.Id);
      const rest = entries.slice(n);
      if (rest.length === 0 && injected.length > 0) {
        info.status = 200;
        return reply(res, 200, { "content-type": "application/x-amz-json-1.0" }, { Successful: [], Failed: injected });
      }
      sendBody = Buffer.from(JSON.stringify({ ...doc, Entries: rest }));
    }
    const up = await forward(req, req.url, sendBody);
    info.status = up.status;
    let out = up.body;
    const answer = parseJson(up.body);
    if (injected.length > 0 && up.status === 200 && answer) {
      out = Buffer.from(JSON.stringify({ ...answer, Successful: answer.Successful ?? [], Failed: [...injected, ...(answer.Failed ?? [])] }));
    }
    if (action === "ReceiveMessage" && answer && up.status === 200) info.messages = (answer.Messages ?? []).length;
    if (up.status !== 200 && answer) info.upstream_error = answer.__type ?? null;
    reply(res, up.status, relayHeaders(up.headers), out);
  } catch (err) {
    info.status = 502;
    info.why = `proxy: ${err.message}`;
    if (!res.headersSent) awsError(res, 502, "com.amazon.coral.service#InternalFailure", `sigv4-proxy: ${err.message}`);
  } finally {
    log(info);
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    handle(req, res, Buffer.concat(chunks)).catch((err) => {
      process.stderr.write(`${PROG}: ${err.stack ?? err}\n`);
      if (!res.headersSent) res.destroy();
    });
  });
});
server.keepAliveTimeout = 30_000;

let closing = false;
function shutdown(sig) {
  if (closing) return;
  closing = true;
  process.stderr.write(`${PROG}: ${sig}, closing\n`);
  const t = setTimeout(() => process.exit(0), 2000);
  t.unref();
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));

server.on("error", (err) => {
  process.stderr.write(`${PROG}: cannot listen on ${opts.host}:${opts.port}: ${err.message}\n`);
  process.exit(1);
});
server.listen(opts.port, opts.host, () => {
  const addr = server.address();
  process.stderr.write(
    `${PROG}: listening on http://${addr.address}:${addr.port}, forwarding to ${upstream.origin}, ` +
      `region ${region}, ${rules.length} fault rule(s)\n`,
  );
  if (opts.readyFile) {
    const tmp = `${opts.readyFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ pid: process.pid, host: addr.address, port: addr.port }) + "\n");
    renameSync(tmp, opts.readyFile);
  }
});
