/**
 * lambdatui's Node.js runtime: the bootstrap an execution environment runs, no npm dependencies.
 *
 * It does what AWS's Node.js runtime (aws-lambda-nodejs-runtime-interface-client 3.x, the
 * JavaScript one behind nodejs18.x-nodejs22.x) does, observably: it loads the handler named by
 * `_HANDLER` once per environment (CommonJS or ES module, as Lambda chooses), then loops on the
 * Lambda Runtime API at `AWS_LAMBDA_RUNTIME_API` (GET next, POST response or error), with the same
 * context object, the same console format, the same error types, messages and traces, and the same
 * event-loop rules:
 *
 * - An async handler (or any handler returning a promise) is answered when the promise settles.
 * - A callback handler's `callback(null, result)` is answered when the event loop is empty
 *   (`context.callbackWaitsForEmptyEventLoop`, default true), else at once. Like AWS's, this
 *   runtime detects "empty" with Node's own `beforeExit` event: between GET /next and the
 *   response the runtime holds no request open (its keep-alive socket is unref'd while idle), so
 *   `beforeExit` fires exactly when the handler's timers, sockets and other work are done.
 * - A non-async handler that never calls back is answered with `null` once the event loop is
 *   empty; an async handler whose promise never settles fails with Runtime.NodeJsExit then.
 * - `context.done/succeed/fail` answer at once.
 * - An uncaught exception or unhandled rejection reports the error and exits the process
 *   (status 129 and 128), as AWS's runtime does; during init it is posted to /init/error.
 *
 * Differences from AWS's runtime that a handler could notice are listed in NOTES at the end.
 */

'use strict';

// CommonJS, not an ES module: an ES-module entry point costs Node ~10 ms of start-up (its loader),
// a quarter of a bare `node -e ''`. ES-module handlers are still loaded with import().
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

const API_PREFIX = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const MAX_HTTP_HEADER_SIZE = 81920; // AWS's bootstrap runs node with --max-http-header-size 81920

// -- errors --------------------------------------------------------------------------------------

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class MalformedStreamingHandler extends Error {}
class InvalidStreamingOperation extends Error {}
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const cls of [
  ImportModuleError, HandlerNotFound, MalformedHandlerName, UserCodeSyntaxError,
  MalformedStreamingHandler, InvalidStreamingOperation, NodeJsExit, UnhandledPromiseRejection,
]) {
  cls.prototype.name = `Runtime.${cls.name}`;
}

function isErrorLike(obj) {
  return Boolean(
    obj && obj.name && obj.message && obj.stack &&
      typeof obj.name === 'string' && typeof obj.message === 'string' && typeof obj.stack === 'string',
  );
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

/** The body posted to /invocation/{id}/error and /init/error: {errorType, errorMessage, trace}. */
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replaceAll('\x7F', '%7F'),
        errorMessage: error.message?.replaceAll('\x7F', '%7F'),
        trace: error.stack.replaceAll('\x7F', '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch (_err) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

/** Errors' non-enumerable name, message, code and stack, plus their own properties, for the log. */
function withEnumerableProperties(value) {
  if (value instanceof Error) {
    const ret = Object.assign({ errorType: value.name, errorMessage: value.message, code: value.code }, value);
    if (typeof value.stack === 'string') {
      ret.stack = value.stack.split('\n');
    }
    return ret;
  }
  return value;
}

/** An error as AWS's runtime logs it in text format: always starting with a tab. */
function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch (_err) {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

function serializeResponse(body) {
  let text;
  try {
    text = JSON.stringify(body === undefined ? null : body);
  } catch (_err) {
    throw new Error('Unable to stringify response body');
  }
  if (typeof text !== 'string') {
    // JSON.stringify(function or symbol) is undefined; AWS's native client rejects it so.
    throw new TypeError('Wrong arguments');
  }
  return text;
}

// -- logging -------------------------------------------------------------------------------------

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const LEVELS = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1, tlvMask: 0b00100 },
  DEBUG: { name: 'DEBUG', priority: 2, tlvMask: 0b01000 },
  INFO: { name: 'INFO', priority: 3, tlvMask: 0b01100 },
  WARN: { name: 'WARN', priority: 4, tlvMask: 0b10000 },
  ERROR: { name: 'ERROR', priority: 5, tlvMask: 0b10100 },
  FATAL: { name: 'FATAL', priority: 6, tlvMask: 0b11000 },
});
const structuredConsole = {};
let sleepCell = null;

function setCurrentRequestId(id) {
  globalThis[REQUEST_ID] = id;
}

/**
 * Write to stdout synchronously: every line is in the pipe before the response is posted, so the
 * executor reads it before END. A full non-blocking pipe (EAGAIN) is waited out, not dropped.
 */
function writeStdout(text) {
  writeAll(1, Buffer.from(text, 'utf8'));
}

function writeAll(fd, buf) {
  let offset = 0;
  while (offset < buf.length) {
    try {
      offset += fs.writeSync(fd, buf, offset, buf.length - offset);
    } catch (e) {
      if (e.code !== 'EAGAIN') {
        return;
      }
      sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  }
}

function logTextToStdout(level, message, ...params) {
  const line = `${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level.name}\t${util.format(message, ...params)}`;
  writeStdout(line.replace(/\n/g, '\r') + '\n');
}

function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

function formatJsonMessage(requestId, timestamp, level, ...messageParams) {
  const result = { timestamp, level: level.name, requestId };
  if (messageParams.length === 1) {
    result.message = messageParams[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch (_) {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(...messageParams);
  for (const param of messageParams) {
    if (param instanceof Error) {
      result.errorType = param?.constructor?.name ?? 'UnknownError';
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(result);
}

function logJsonToStdout(level, message, ...params) {
  const line = formatJsonMessage(globalThis[REQUEST_ID], new Date().toISOString(), level, message, ...params);
  writeStdout(line.replace(/\n/g, '\r') + '\n');
}

/**
 * Write one log event to the telemetry descriptor as AWS's runtime does (LogPatch.js): a frame of
 * type 0xa55a0003 (text) or 0xa55a0002 (JSON) with the level's bits, the length, the timestamp in
 * microseconds and the message, whose newlines stay in the one event. One write, so that the frame
 * stays whole next to what the function prints.
 */
function logToFd(fd, json) {
  return (level, message, ...params) => {
    const date = new Date();
    const text = json
      ? formatJsonMessage(globalThis[REQUEST_ID], date.toISOString(), level, message, ...params)
      : `${date.toISOString()}\t${globalThis[REQUEST_ID]}\t${level.name}\t${util.format(message, ...params)}\n`;
    const body = Buffer.from(text, 'utf8');
    const frame = Buffer.allocUnsafe(16 + body.length);
    frame.writeUInt32BE(((json ? 0xa55a0002 : 0xa55a0003) | level.tlvMask) >>> 0, 0);
    frame.writeInt32BE(body.length, 4);
    frame.writeBigInt64BE(BigInt(date.valueOf()) * 1000n, 8);
    body.copy(frame, 16);
    writeAll(fd, frame);
  };
}

/** Replace console's level methods, as AWS's runtime does (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL). */
function patchConsole() {
  const json = process.env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
  let log = json ? logJsonToStdout : logTextToStdout;
  const telemetryFd = process.env._LAMBDA_TELEMETRY_LOG_FD;
  if (telemetryFd != null) {
    // As AWS's runtime: the function does not see the variable.
    delete process.env._LAMBDA_TELEMETRY_LOG_FD;
    log = logToFd(parseInt(telemetryFd, 10), json);
  }
  const threshold = LEVELS[process.env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()] ?? LEVELS.TRACE;
  const nop = (_message, ..._params) => {};
  const method = (level) =>
    level.priority >= threshold.priority ? (msg, ...params) => log(level, msg, ...params) : nop;
  console.trace = method(LEVELS.TRACE);
  console.debug = method(LEVELS.DEBUG);
  console.info = method(LEVELS.INFO);
  console.log = console.info;
  console.warn = method(LEVELS.WARN);
  console.error = method(LEVELS.ERROR);
  console.fatal = (msg, ...params) => log(LEVELS.FATAL, msg, ...params);
  structuredConsole.logError = json
    ? (_msg, err) => console.error(intoError(err))
    : (msg, err) => console.error(msg, toFormatted(intoError(err)));
}

// -- the Runtime API client ----------------------------------------------------------------------

function headerValue(value) {
  // A header must be printable ASCII; the Runtime API turns anything it rejects into Runtime.Unknown.
  return typeof value === 'string' && /^[\x21-\x7e]+$/.test(value) ? value : 'Runtime.Unknown';
}

function fatal(error) {
  // The Runtime API is gone (the executor closed or killed the environment): nothing to report to.
  try {
    fs.writeSync(2, `lambdatui runtime: Runtime API request failed: ${error && error.message}\n`);
  } finally {
    process.exit(1);
  }
}

class RAPIDClient {
  constructor(hostnamePort) {
    const [hostname, port] = hostnamePort.split(':');
    this.hostname = hostname;
    this.port = parseInt(port, 10);
    // One keep-alive connection, as AWS's client, spoken over node:net: node:http would add ~2 ms to
    // every cold start, and the Runtime API's answers are plain (Content-Length, no chunks). The
    // socket is ref'd only while a request waits for its answer, so it never keeps the event loop
    // alive otherwise and `beforeExit` still tells when the handler's work is done.
    this.socket = null;
    this.pending = null; // the request waiting for its answer: { args, reused, onEnd }
    this.received = [];
  }

  /** Open the connection ahead of the first request (Node connects on a later tick: the handshake
   *  then overlaps the loading of the handler instead of delaying the first GET /next). */
  connect() {
    if (this.socket === null) {
      this._connect();
    }
  }

  _connect() {
    const socket = net.connect({ host: this.hostname, port: this.port });
    socket.unref(); // ref'd only while a request waits for its answer
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this._onData(socket, chunk));
    socket.on('error', (e) => this._onClosed(socket, e));
    socket.on('close', () => this._onClosed(socket, null));
    this.socket = socket;
    this.received = [];
    return socket;
  }

  _request(method, route, body, headers, onEnd, retried = false) {
    const reused = this.socket !== null;
    const socket = this.socket ?? this._connect();
    let head = `${method} ${API_PREFIX}${route} HTTP/1.1\r\nHost: ${this.hostname}:${this.port}\r\n`;
    for (const [name, value] of Object.entries(headers ?? {})) {
      head += `${name}: ${value}\r\n`;
    }
    head += `Content-Length: ${body ? body.length : 0}\r\n\r\n`;
    this.pending = { args: [method, route, body, headers, onEnd], retried, reused, onEnd };
    socket.ref();
    socket.write(body && body.length ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : head, 'latin1');
  }

  _onData(socket, chunk) {
    this.received.push(chunk);
    const data = this.received.length === 1 ? chunk : Buffer.concat(this.received);
    const end = data.indexOf('\r\n\r\n');
    if (end < 0) {
      if (data.length > MAX_HTTP_HEADER_SIZE) {
        fatal(new Error('Runtime API answer headers too large'));
      }
      this.received = [data];
      return;
    }
    const lines = data.toString('latin1', 0, end).split('\r\n');
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = parseInt(headers['content-length'] ?? '0', 10);
    if (data.length < end + 4 + length) {
      this.received = [data];
      return;
    }
    const body = data.subarray(end + 4, end + 4 + length);
    this.received = data.length > end + 4 + length ? [data.subarray(end + 4 + length)] : [];
    const pending = this.pending;
    this.pending = null;
    socket.unref();
    if ((headers.connection ?? '').toLowerCase() === 'close') {
      this.socket = null;
      socket.destroy();
    }
    if (pending) {
      pending.onEnd({ statusCode: parseInt(lines[0].split(' ')[1], 10), headers }, body);
    }
  }

  _onClosed(socket, error) {
    if (this.socket === socket) {
      this.socket = null;
    }
    const pending = this.pending;
    if (pending === null) {
      return;
    }
    this.pending = null;
    // A keep-alive socket closed by the other end just as it was reused: try once on a new one.
    if (pending.reused && !pending.retried && (error === null || error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
      const [method, route, body, headers, onEnd] = pending.args;
      this._request(method, route, body, headers, onEnd, true);
    } else {
      fatal(error ?? new Error('Runtime API closed the connection'));
    }
  }

  _post(route, bodyString, headers, callback) {
    const body = Buffer.from(bodyString, 'utf8');
    this._request('POST', route, body, { 'Content-Type': 'application/json', ...headers }, () => callback && callback());
  }

  /** GET /invocation/next, with no timeout: the environment waits for work as long as it takes. */
  nextInvocation() {
    return new Promise((resolve) => {
      const attempt = () =>
        this._request('GET', '/invocation/next', undefined, undefined, (res, body) => {
          if (res.statusCode !== 200) {
            setTimeout(attempt, 10);
            return;
          }
          resolve({ bodyJson: body.toString('utf8'), headers: res.headers });
        });
      attempt();
    });
  }

  postInvocationResponse(response, id, callback) {
    const bodyString = serializeResponse(response);
    this._post(`/invocation/${encodeURIComponent(id)}/response`, bodyString, undefined, callback);
  }

  postInvocationError(error, id, callback) {
    const response = toRapidResponse(error);
    this._post(
      `/invocation/${encodeURIComponent(id)}/error`,
      serializeResponse(response),
      { [ERROR_TYPE_HEADER]: headerValue(response.errorType) },
      callback,
    );
  }

  postInitError(error, callback) {
    const response = toRapidResponse(error);
    this._post('/init/error', serializeResponse(response), { [ERROR_TYPE_HEADER]: headerValue(response.errorType) }, callback);
  }

  /**
   * A response stream for a streaming handler: an HTTP request to /response in Lambda's streaming
   * mode (chunked, errors as trailers). Returns the stream, a promise of the POST's end, and fail().
   */
  getStreamForInvocationResponse(id, highWaterMark) {
    const TRAILER_TYPE = 'Lambda-Runtime-Function-Error-Type';
    const TRAILER_BODY = 'Lambda-Runtime-Function-Error-Body';
    let ready = true;
    let resolveDone, rejectDone;
    const responseDone = new Promise((resolve, reject) => {
      resolveDone = resolve;
      rejectDone = reject;
    });
    // Only streaming handlers need node:http (chunked bodies, trailers): loaded when first used.
    const http = require('node:http');
    const req = http.request(
      {
        hostname: this.hostname,
        port: this.port,
        path: `${API_PREFIX}/invocation/${encodeURIComponent(id)}/response`,
        method: 'POST',
        agent: false,
        highWaterMark,
        headers: {
          'Lambda-Runtime-Function-Response-Mode': 'streaming',
          Trailer: [TRAILER_TYPE, TRAILER_BODY],
          'Content-Type': 'application/octet-stream',
        },
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => resolveDone());
        res.on('aborted', (err) => rejectDone(err));
      },
    );
    req.on('error', (err) => {
      rejectDone(err);
      req.destroy(err);
    });
    req.setContentType = (contentType) => {
      if (!ready) {
        throw new InvalidStreamingOperation('Cannot set content-type, too late.');
      }
      req.setHeader('Content-Type', contentType);
    };
    const origEnd = req.end.bind(req);
    req.end = function (cb) {
      origEnd(cb); // as AWS's: end(data) writes data without the HttpResponseStream prelude
    };
    const origWrite = req.write.bind(req);
    req.write = function (chunk, encoding, callback) {
      if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && chunk?.constructor !== Uint8Array) {
        chunk = JSON.stringify(chunk);
      }
      if (ready && typeof this._onBeforeFirstWrite === 'function') {
        this._onBeforeFirstWrite((ch) => origWrite(ch));
      }
      ready = false;
      return origWrite(chunk, encoding, callback);
    };
    const fail = (err, callback) => {
      const error = toRapidResponse(err);
      req.addTrailers({
        [TRAILER_TYPE]: headerValue(error.errorType),
        [TRAILER_BODY]: Buffer.from(JSON.stringify(error)).toString('base64'),
      });
      req.end(callback);
    };
    return { responseStream: writableStreamOnly(req), responseDone, fail };
  }
}

/** What a streaming handler may touch of the request: the Writable side only, as AWS exposes it. */
function writableStreamOnly(inner) {
  const fns = [
    'cork', 'destroy', 'end', 'uncork', 'write', 'addListener', 'emit', 'eventNames', 'getMaxListeners',
    'listenerCount', 'listeners', 'off', 'on', 'once', 'prependListener', 'prependOnceListener',
    'rawListeners', 'removeAllListeners', 'removeListener', 'setMaxListeners', 'setContentType',
  ];
  const stream = Object.fromEntries(fns.map((fn) => [fn, inner[fn].bind(inner)]));
  for (const prop of ['destroyed', 'writable', '_onBeforeFirstWrite']) {
    Object.defineProperty(stream, prop, { get: () => inner[prop], set: (v) => { inner[prop] = v; } });
  }
  for (const prop of [
    'writableFinished', 'writableObjectMode', 'writableBuffer', 'writableEnded', 'writableNeedDrain',
    'writableHighWaterMark', 'writableCorked', 'writableLength',
  ]) {
    Object.defineProperty(stream, prop, { get: () => inner[prop] });
  }
  return stream;
}

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType('application/vnd.awslambda.http-integration-response');
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(8)); // eight NUL bytes end the prelude
    };
    return underlyingStream;
  }
}

// -- the beforeExit listener ---------------------------------------------------------------------

const BEFORE_EXIT = Symbol.for('aws.lambda.beforeExit');
const NO_OP = () => {};
const BeforeExitListener = {
  invoke: () => globalThis[BEFORE_EXIT](),
  reset: () => (globalThis[BEFORE_EXIT] = NO_OP),
  set: (listener) => (globalThis[BEFORE_EXIT] = listener),
};

// -- the context object --------------------------------------------------------------------------

function parseJsonHeader(jsonString, name) {
  if (jsonString === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(jsonString);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

class InvokeContext {
  constructor(headers) {
    this.headers = headers; // lower-cased by RAPIDClient
  }

  get invokeId() {
    const id = this.headers['lambda-runtime-aws-request-id'];
    if (!id) {
      throw new Error('invocation id is missing or invalid');
    }
    return id;
  }

  updateLoggingContext() {
    setCurrentRequestId(this.invokeId);
  }

  /** The handler's context: the callback part, then environment data, then header data (AWS's key order). */
  attachEnvironmentData(callbackContext) {
    const trace = this.headers['lambda-runtime-trace-id'];
    if (trace) {
      process.env._X_AMZN_TRACE_ID = trace;
    } else {
      delete process.env._X_AMZN_TRACE_ID;
    }
    const env = process.env;
    const deadline = Number(this.headers['lambda-runtime-deadline-ms']);
    return Object.assign(
      callbackContext,
      {
        functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
        functionName: env.AWS_LAMBDA_FUNCTION_NAME,
        memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, // a string, as in AWS's runtime
        logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
      },
      {
        clientContext: parseJsonHeader(this.headers['lambda-runtime-client-context'], 'ClientContext'),
        identity: parseJsonHeader(this.headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
        invokedFunctionArn: this.headers['lambda-runtime-invoked-function-arn'],
        awsRequestId: this.headers['lambda-runtime-aws-request-id'],
        tenantId: this.headers['lambda-runtime-aws-tenant-id'],
        getRemainingTimeInMillis: function () {
          return deadline - Date.now();
        },
      },
    );
  }
}

/**
 * The callback, and the part of the context holding callbackWaitsForEmptyEventLoop and the
 * deprecated done/succeed/fail; only the first call of any of them counts.
 */
function buildCallbackContext(client, id, scheduleNext) {
  const postError = (err, callback) => {
    structuredConsole.logError('Invoke Error', err);
    client.postInvocationError(err, id, callback);
  };

  let isCompleteInvoked = false;
  const complete = (result, callback) => {
    if (isCompleteInvoked) {
      console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
      return;
    }
    isCompleteInvoked = true;
    client.postInvocationResponse(result, id, callback);
  };

  let waitForEmptyEventLoop = true;

  const callback = function (err, result) {
    BeforeExitListener.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      BeforeExitListener.set(() => {
        setImmediate(() => {
          complete(result, scheduleNext);
        });
      });
    }
  };

  const done = (err, result) => {
    BeforeExitListener.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else {
      complete(result, scheduleNext);
    }
  };
  const succeed = (result) => {
    done(null, result);
  };
  const fail = (err) => {
    if (err === undefined || err === null) {
      done('handled');
    } else {
      done(err, null);
    }
  };

  let finished = false;
  const onlyAllowFirstCall = (toWrap) =>
    function () {
      if (!finished) {
        toWrap.apply(null, arguments);
        finished = true;
      }
    };

  const callbackContext = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: onlyAllowFirstCall(succeed),
    fail: onlyAllowFirstCall(fail),
    done: onlyAllowFirstCall(done),
  };
  const markCompleted = () => {
    isCompleteInvoked = true;
  };
  return [onlyAllowFirstCall(callback), callbackContext, markCompleted];
}

function buildStreamingContext(client, id, scheduleNext, options) {
  let waitForEmptyEventLoop = true;
  const scheduleNextNow = () => {
    if (!waitForEmptyEventLoop) {
      scheduleNext();
    } else {
      BeforeExitListener.set(() => setImmediate(() => scheduleNext()));
    }
  };
  let isStreamCreated = false;
  return {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    createStream: () => {
      if (isStreamCreated) {
        throw new InvalidStreamingOperation('Cannot create stream for the same StreamingContext more than once.');
      }
      isStreamCreated = true;
      const { responseStream, responseDone, fail } = client.getStreamForInvocationResponse(id, options?.highWaterMark);
      return {
        fail: (err, callback) => {
          structuredConsole.logError('Invoke Error', err);
          fail(err, callback);
        },
        responseStream,
        rapidResponse: responseDone,
        scheduleNext: () => {
          BeforeExitListener.reset();
          scheduleNextNow();
        },
      };
    },
  };
}

// -- loading the handler -------------------------------------------------------------------------

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;
const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';

/** './src/app/index.obj.handler' -> ['./src/app/', 'index.obj.handler'] */
function moduleRootAndHandler(fullHandlerString) {
  const handlerString = path.basename(fullHandlerString);
  const moduleRoot = fullHandlerString.substring(0, fullHandlerString.indexOf(handlerString));
  return [moduleRoot, handlerString];
}

/** 'index.obj.handler' -> ['index', 'obj.handler']: the module ends at the first dot. */
function splitHandlerString(handler) {
  const match = handler.match(FUNCTION_EXPR);
  if (!match || match.length !== 3) {
    throw new MalformedHandlerName('Bad handler');
  }
  return [match[1], match[2]];
}

function resolveHandler(object, nestedProperty) {
  return nestedProperty.split('.').reduce((nested, key) => nested && nested[key], object);
}

function tryRequireFile(file, extension) {
  const p = file + (extension || '');
  return fs.existsSync(p) ? require(p) : undefined;
}

async function tryAwaitImport(file, extension) {
  const p = file + (extension || '');
  if (fs.existsSync(p)) {
    return await import(pathToFileURL(p).href);
  }
  return undefined;
}

/** Whether the nearest package.json (stopping at node_modules) says "type": "module". */
function hasFolderPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) {
    return false;
  }
  const pj = path.join(folder, '/package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) {
        return pkg.type === 'module';
      }
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') {
    return false;
  }
  return hasFolderPackageJsonTypeModule(path.resolve(folder, '..'));
}

/**
 * Lambda's lookup: the extensionless file, then `.js` as CommonJS (unless the package is
 * "type": "module"), then `.js` as ESM, `.mjs`, `.cjs`; last a node-style require.resolve
 * from the task root and the module's folder (which also searches NODE_PATH).
 */
async function tryRequire(appRoot, moduleRoot, module) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);
  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) {
    return extensionless;
  }
  const pjHasModule = hasFolderPackageJsonTypeModule(path.resolve(path.dirname(lambdaStylePath)));
  if (!pjHasModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) {
      return loaded;
    }
  }
  const loaded =
    (pjHasModule && (await tryAwaitImport(lambdaStylePath, '.js'))) ||
    (await tryAwaitImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) {
    return loaded;
  }
  const nodeStylePath = require.resolve(module, { paths: [appRoot, moduleRoot] });
  return require(nodeStylePath);
}

async function loadUserApp(appRoot, moduleRoot, module) {
  if (!(process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA === '1' || process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA === 'true')) {
    globalThis.awslambda = {
      streamifyResponse: (handler, options) => {
        handler[HANDLER_STREAMING] = STREAM_RESPONSE;
        if (typeof options?.highWaterMark === 'number') {
          handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
        }
        return handler;
      },
      HttpResponseStream,
    };
  }
  try {
    return await tryRequire(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new UserCodeSyntaxError(e);
    } else if (e.code !== undefined && e.code === 'MODULE_NOT_FOUND') {
      throw new ImportModuleError(e);
    }
    throw e;
  }
}

async function loadHandler(appRoot, fullHandlerString) {
  if (fullHandlerString.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const [moduleRoot, moduleAndHandler] = moduleRootAndHandler(fullHandlerString);
  const [module, handlerPath] = splitHandlerString(moduleAndHandler);
  const userApp = await loadUserApp(appRoot, moduleRoot, module);
  const handlerFunc = resolveHandler(userApp, handlerPath);
  if (!handlerFunc) {
    throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  }
  if (typeof handlerFunc !== 'function') {
    throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  }
  return handlerFunc;
}

function handlerMetadata(handlerFunc) {
  const marker = handlerFunc[HANDLER_STREAMING];
  let streaming = false;
  if (marker !== undefined && marker !== null && marker !== false) {
    if (marker !== STREAM_RESPONSE) {
      throw new MalformedStreamingHandler('Only response streaming is supported.');
    }
    streaming = STREAM_RESPONSE;
  }
  const hwm = parseInt(handlerFunc[HANDLER_HIGHWATERMARK]);
  let isAsync = false;
  try {
    isAsync = handlerFunc.constructor?.name === 'AsyncFunction';
  } catch (_) {
    isAsync = false;
  }
  return { streaming, highWaterMark: Number.isNaN(hwm) ? undefined : hwm, isAsync, argsNum: handlerFunc.length };
}

function checkForDeprecatedCallback(metadata) {
  if (
    process.env.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined &&
    metadata.argsNum === 3 && metadata.isAsync === false && metadata.streaming === false
  ) {
    console.warn(
      'AWS Lambda plans to remove support for callback-based function handlers starting with Node.js 24. You will need to update this function to use an async handler to use Node.js 24 or later. For more information and to provide feedback on this change, see https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.',
    );
  }
}

// -- the invoke loop -----------------------------------------------------------------------------

function isPromise(obj) {
  return obj && obj.then && typeof obj.then === 'function';
}

class Runtime {
  constructor(client, handler, metadata, errorCallbacks) {
    this.client = client;
    this.handler = handler; // called as this.handler(...): traces read "at Runtime.handler", as on Lambda
    this.handlerMetadata = metadata;
    this.errorCallbacks = errorCallbacks;
    this.handleOnce = metadata.streaming === STREAM_RESPONSE ? this.handleOnceStreaming : this.handleOnceNonStreaming;
  }

  /** The next iteration starts at the next turn of the event loop. */
  scheduleIteration() {
    setImmediate(() => {
      this.handleOnce().then(
        () => {},
        (err) => {
          console.log(`Unexpected Top Level Error: ${err.toString()}`);
          this.errorCallbacks.uncaughtException(err);
        },
      );
    });
  }

  async handleOnceNonStreaming() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeContext = new InvokeContext(headers);
    invokeContext.updateLoggingContext();
    const [callback, callbackContext, markCompleted] = buildCallbackContext(
      this.client,
      invokeContext.invokeId,
      this.scheduleIteration.bind(this),
    );
    try {
      this._setErrorCallbacks(invokeContext.invokeId);
      this._setDefaultExitListener(invokeContext.invokeId, markCompleted, this.handlerMetadata.isAsync);
      const result = this.handler(JSON.parse(bodyJson), invokeContext.attachEnvironmentData(callbackContext), callback);
      if (isPromise(result)) {
        result.then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  async handleOnceStreaming() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeContext = new InvokeContext(headers);
    invokeContext.updateLoggingContext();
    const streamingContext = buildStreamingContext(
      this.client,
      invokeContext.invokeId,
      this.scheduleIteration.bind(this),
      this.handlerMetadata.highWaterMark ? { highWaterMark: this.handlerMetadata.highWaterMark } : undefined,
    );
    const { responseStream, rapidResponse, scheduleNext, fail } = streamingContext.createStream();
    delete streamingContext.createStream;
    try {
      this._setErrorCallbacks(invokeContext.invokeId);
      BeforeExitListener.set(() => this.scheduleIteration());
      const ctx = invokeContext.attachEnvironmentData(streamingContext);
      const handlerResult = this.handler(JSON.parse(bodyJson), responseStream, ctx);
      if (!isPromise(handlerResult)) {
        fail('Streaming does not support non-async handlers.', scheduleNext);
        return;
      }
      const result = await handlerResult;
      if (typeof result !== 'undefined') {
        console.warn('Streaming handlers ignore return values.');
      }
      if (rapidResponse) {
        await rapidResponse;
      }
      if (!responseStream.writableFinished) {
        fail('Response stream is not finished.', scheduleNext);
        return;
      }
      scheduleNext();
    } catch (err) {
      fail(err, scheduleNext);
    }
  }

  _setErrorCallbacks(invokeId) {
    this.errorCallbacks.uncaughtException = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(129));
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(128));
    };
  }

  /**
   * When the event loop empties and the handler has not answered: an async handler's promise was
   * never settled (Runtime.NodeJsExit); any other handler is answered with null.
   */
  _setDefaultExitListener(invokeId, markCompleted, isAsync) {
    BeforeExitListener.set(() => {
      markCompleted();
      if (isAsync) {
        const nodeJsExitError = new NodeJsExit();
        structuredConsole.logError('Invoke Error', nodeJsExitError);
        this.client.postInvocationError(nodeJsExitError, invokeId, () => this.scheduleIteration());
      } else {
        this.client.postInvocationResponse(null, invokeId, () => this.scheduleIteration());
      }
    });
  }
}

// -- start-up ------------------------------------------------------------------------------------

function exposeGc() {
  // AWS's bootstrap starts node with --expose-gc; turn it on now that we are running. Making it costs
  // a V8 context (~2 ms), so it is made when a function first looks at `gc`.
  if (typeof globalThis.gc === 'function') {
    return;
  }
  Object.defineProperty(globalThis, 'gc', {
    configurable: true,
    enumerable: false,
    get() {
      let gc;
      try {
        const v8 = require('node:v8');
        const vm = require('node:vm');
        v8.setFlagsFromString('--expose-gc');
        gc = vm.runInNewContext('gc');
      } catch (_) {
        // not fatal: only functions calling global.gc() would notice
      }
      Object.defineProperty(globalThis, 'gc', { value: gc, writable: true, configurable: true, enumerable: false });
      return gc;
    },
    set(value) {
      Object.defineProperty(globalThis, 'gc', { value, writable: true, configurable: true, enumerable: false });
    },
  });
}

async function run(appRoot, handlerString) {
  patchConsole();
  exposeGc();
  const client = new RAPIDClient(process.env.AWS_LAMBDA_RUNTIME_API);
  client.connect();

  const errorCallbacks = {
    uncaughtException: (error) => {
      client.postInitError(error, () => process.exit(129));
    },
    unhandledRejection: (error) => {
      client.postInitError(error, () => process.exit(128));
    },
  };

  process.on('uncaughtException', (error) => {
    structuredConsole.logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });

  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    structuredConsole.logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });

  BeforeExitListener.reset();
  process.on('beforeExit', BeforeExitListener.invoke);

  const handlerFunc = await loadHandler(appRoot, handlerString);
  const metadata = handlerMetadata(handlerFunc);
  checkForDeprecatedCallback(metadata);
  new Runtime(client, handlerFunc, metadata, errorCallbacks).scheduleIteration();
}

// A failure to load the handler is thrown again outside the promise, so that it reaches the
// 'uncaughtException' listener as it does from the top-level await of AWS's ES-module runtime: it is
// logged as "Uncaught Exception", posted to /init/error, and the process exits with 129, as on Lambda.
run(process.env.LAMBDA_TASK_ROOT || process.cwd(), process.env._HANDLER || '').catch((error) => {
  process.nextTick(() => {
    throw error;
  });
});

/*
 * NOTES: where this runtime differs from AWS's, observably.
 *
 * - AWS starts node with `--max-old-space-size` and `--max-semi-space-size` derived from the memory
 *   size, and `--max-http-header-size 81920`; this runtime is started as `node node_bootstrap.cjs`
 *   and cannot change V8's heap limits once running. Memory over the function's limit is caught by
 *   the executor (Runtime.OutOfMemory) rather than by V8's own heap limit. `global.gc` is exposed.
 * - The Runtime API client is a small HTTP/1.1 client on node:net (node:http only for streaming
 *   responses) rather than AWS's native (C++) client, so posting a response is asynchronous: the
 *   next GET /next follows the POST's answer instead of a blocking call, and after an uncaught
 *   exception the process exits once the error has been posted.
 * - This runtime is a CommonJS module where AWS's is an ES module (/var/runtime/index.mjs): stack
 *   frames of the runtime point at this file, and the "Require stack" of Runtime.ImportModuleError
 *   names this file.
 * - Log messages go to the descriptor in _LAMBDA_TELEMETRY_LOG_FD as frames, as AWS's runtime does;
 *   that descriptor is the runtime's stdout here, so frames and printed lines keep their order.
 * - Streaming handlers (awslambda.streamifyResponse) stream their body chunked to /response in
 *   Lambda's streaming mode; the executor answers the invoke with the whole body.
 */
