"""lambdatui's Python runtime: the bootstrap an execution environment runs, standard library only.

It does what AWS's Python runtime (awslambdaric) does, observably: it loads the handler named by
`_HANDLER` once per environment, then loops on the Lambda Runtime API at `AWS_LAMBDA_RUNTIME_API`
(GET next, POST response or error), with the same context object, the same logging format, the
same error types and messages, and stdout/stderr unbuffered. It must run on every Python that
Lambda offers (3.9 and newer), so it uses no newer syntax, and it imports little so that a cold
start costs little more than the handler's own imports.

Like AWS's, it writes its own log messages (the `logging` records of the function, an unhandled
error with its traceback) to the descriptor named by `_LAMBDA_TELEMETRY_LOG_FD` as frames, each one
log event whatever newlines it holds; without that variable it falls back to stdout, where an
error's lines are joined with carriage returns so that they stay one line (awslambdaric's
`StandardLogSink`). The executor imports it as a module (`launch_for`), so that its bytecode is
cached rather than compiled on every cold start as a `__main__` script would be.

It does not import `os` (with `stat` and `_collections_abc`, ~1.7 ms of a ~13 ms interpreter
start): it reads and sets environment variables through `posix`, already loaded, in a way that the
function's `os.environ` sees whether it imports `os` before or after (see `getenv`/`setenv`).
"""

import _json
import _socket
import posix
import sys
import time

API_PREFIX = "/2018-06-01/runtime"
ERROR_LOG_LINE_TERMINATE = "\r"  # the stdout fallback's join; frames keep "\n"
ERROR_LOG_IDENT = "\u00a0"
# Frame types (awslambdaric lambda_runtime_log_utils): text, no level; text at level ERROR.
FRAME_TEXT = b"\xa5\x5a\x00\x03"
FRAME_TEXT_ERROR = b"\xa5\x5a\x00\x17"
LAMBDA_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, or can be "
    "applied automatically. To determine if the runtime has been updated, check the runtime version in the "
    "INIT_START log entry. If this error correlates with a change in the runtime version, you may be able to "
    "mitigate this error by temporarily rolling back to the previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)

_request_id = None
_log_fd = None  # the telemetry log descriptor, when the platform gave one


def getenv(key, default=None):
    """os.environ.get without importing os: from os.environ once the function has imported it."""
    os_module = sys.modules.get("os")
    if os_module is not None:
        return os_module.environ.get(key, default)
    value = posix.environ.get(key.encode("utf-8", "surrogateescape"))
    return default if value is None else value.decode("utf-8", "surrogateescape")


def setenv(key, value):
    """Set (or, with None, remove) a variable as os.environ would. Before `os` is imported, the change
    goes to `posix.environ`, from which `os` builds its `environ` when it is imported."""
    os_module = sys.modules.get("os")
    if os_module is not None:
        if value is None:
            os_module.environ.pop(key, None)
        else:
            os_module.environ[key] = value
        return
    raw = key.encode("utf-8", "surrogateescape")
    if value is None:
        if posix.environ.pop(raw, None) is not None:
            posix.unsetenv(key)
    else:
        posix.environ[raw] = value.encode("utf-8", "surrogateescape")
        posix.putenv(key, value)


def popenv(key, default=None):
    value = getenv(key)
    if value is None:
        return default
    setenv(key, None)
    return value


def _abspath(path):
    """os.path.abspath for POSIX, without posixpath."""
    if not path.startswith("/"):
        path = posix.getcwd() + "/" + path
    parts = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


def _isdir(path):
    try:
        return (posix.stat(path).st_mode & 0o170000) == 0o040000
    except (OSError, ValueError):
        return False


def _open_log_sink():
    """Take the telemetry descriptor out of the environment, as AWS's runtimes do (the function does
    not see the variable), and keep a descriptor of our own for it: a function that closes or
    redirects its stdout does not close ours."""
    global _log_fd
    fd = popenv("_LAMBDA_TELEMETRY_LOG_FD")
    if fd is None:
        return
    try:
        _log_fd = posix.dup(int(fd))
    except (ValueError, OSError):
        _log_fd = None


def log_frame(message, frame_type=FRAME_TEXT):
    """Write one log event as a frame: type, length, timestamp (µs), message; big-endian."""
    data = message.encode("utf-8")
    try:
        sys.stdout.flush()  # what the function printed before this comes before it
    except Exception:
        pass
    frame = frame_type + len(data).to_bytes(4, "big") + (time.time_ns() // 1000).to_bytes(8, "big") + data
    view = memoryview(frame)
    while view:
        view = view[posix.write(_log_fd, view):]


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        Exception.__init__(self, msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


class RuntimeClient(object):
    """A keep-alive HTTP/1.1 client for the Runtime API, on a raw socket (http.client's header
    parsing alone would cost more than the rest of a warm invoke)."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.address = (host or "127.0.0.1", int(port))
        self.sock = None
        self.buf = b""

    def _connect(self):
        # _socket, not socket: the socket module's imports (enum, selectors) cost milliseconds of init.
        sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        sock.connect(self.address)
        self.sock = sock
        self.buf = b""

    def request(self, method, path, body=b"", headers=None):
        for attempt in (0, 1):
            if self.sock is None:
                self._connect()
            head = "%s %s%s HTTP/1.1\r\nHost: %s:%d\r\n" % (method, API_PREFIX, path, self.address[0], self.address[1])
            if headers:
                for k, v in headers.items():
                    head += "%s: %s\r\n" % (k, v)
            head += "Content-Length: %d\r\n\r\n" % len(body)
            try:
                self.sock.sendall(head.encode("latin-1") + body)
                return self._read_response()
            except (OSError, ConnectionError):
                self.sock = None
                if attempt:
                    raise

    def _read_response(self):
        while b"\r\n\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("Runtime API closed the connection")
            self.buf += data
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            data = self.sock.recv(max(65536, length - len(rest)))
            if not data:
                raise ConnectionError("Runtime API closed the connection")
            rest += data
        self.buf = rest[length:]
        if headers.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return status, headers, rest[:length]

    def next(self):
        # Lambda's runtime client sets no timeout on /next: the environment waits, frozen, for work.
        while True:
            status, headers, body = self.request("GET", "/invocation/next")
            if status == 200:
                return headers, body
            time.sleep(0.01)

    def post_result(self, request_id, body, content_type="application/json"):
        return self.request(
            "POST", "/invocation/%s/response" % request_id, body, {"Content-Type": content_type}
        )

    def post_error(self, request_id, error):
        return self.request(
            "POST",
            "/invocation/%s/error" % request_id,
            to_json(error).encode("utf-8"),
            {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error["errorType"] or "Runtime.Unknown"},
        )

    def post_init_error(self, error):
        return self.request(
            "POST",
            "/init/error",
            to_json(error).encode("utf-8"),
            {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error["errorType"] or "Runtime.Unknown"},
        )


class _DecodeContext(object):
    # What json.JSONDecoder hands to the C scanner; building it here avoids importing json (and re).
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo = {}

    @staticmethod
    def parse_constant(name):
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


_scan = _json.make_scanner(_DecodeContext)
_WHITESPACE = " \t\n\r"


def json_loads(data):
    if isinstance(data, (bytes, bytearray)):
        data = data.decode("utf-8")
    start = len(data) - len(data.lstrip(_WHITESPACE))
    try:
        obj, end = _scan(data, start)
    except StopIteration:
        import json

        return json.loads(data)  # raises the standard error with its position
    if data[end:].strip(_WHITESPACE):
        import json

        return json.loads(data)
    return obj


def _decimal_default(obj):
    # AWS's marshaller writes Decimal as its exact digits (DynamoDB returns Decimals everywhere).
    import decimal

    if isinstance(obj, decimal.Decimal):
        if obj.is_nan():
            return float("nan")
        return int(obj) if obj == obj.to_integral_value() and obj.as_tuple().exponent >= 0 else float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


# python3.12 and newer runtimes write non-ASCII characters as they are; older ones escape them.
_ENSURE_ASCII = getenv("AWS_EXECUTION_ENV") in (
    "AWS_Lambda_python3.8",
    "AWS_Lambda_python3.9",
    "AWS_Lambda_python3.10",
    "AWS_Lambda_python3.11",
)


_encode_string = _json.encode_basestring_ascii if _ENSURE_ASCII else _json.encode_basestring


def to_json(obj):
    """json.dumps through the C encoder it uses, without importing the json module (and re)."""
    if isinstance(obj, str):
        return _encode_string(obj)
    encoder = _json.make_encoder({}, _decimal_default, _encode_string, None, ": ", ", ", False, False, True)
    return "".join(encoder(obj, 0))


class Unbuffered(object):
    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]


def _obj(cls, d):
    if d is None:
        return None
    o = cls()
    for f in cls.__slots__:
        setattr(o, f, d.get(f))
    return o


_STATIC = None  # the environment's constant context fields, read once (they cannot change in a sandbox)


class LambdaContext(object):
    def __init__(self, request_id, client_context, cognito_identity, deadline_ms, invoked_function_arn, tenant_id=None):
        global _STATIC
        if _STATIC is None:
            _STATIC = tuple(
                getenv(k)
                for k in (
                    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_FUNCTION_NAME",
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
                )
            )
        self.aws_request_id = request_id
        (
            self.log_group_name,
            self.log_stream_name,
            self.function_name,
            self.memory_limit_in_mb,
            self.function_version,
        ) = _STATIC
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context = _obj(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj(Client, self.client_context.client)
        self.identity = _obj(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        delta = self._deadline_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,identity=%s])"
        ) % (
            self.aws_request_id, self.log_group_name, self.log_stream_name, self.function_name,
            self.memory_limit_in_mb, self.function_version, self.invoked_function_arn,
            self.client_context, self.identity,
        )


def make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _trace(tb):
    import traceback

    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    # Drop the runtime's own frames, as AWS's runtime does.
    for i, frame in enumerate(frames):
        if not frame[0].endswith("python_bootstrap.py"):
            frames = frames[i:]
            break
    else:
        frames = []
    return traceback.format_list(frames)


def fault_from_exception(exc_info, request_id=None):
    etype, value, tb = exc_info
    return make_error(str(value), etype.__name__, _trace(tb), request_id)


def _indent(line):
    n = len(line) - len(line.lstrip(" "))
    return ERROR_LOG_IDENT * n + line[n:]


def log_error(error):
    """Log an error the way AWS's runtime does: one event, its lines joined by newlines in a frame
    (recorded on AWS), or by carriage returns on plain stdout."""
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
            else:
                lines.extend(_indent(line) for line in element.splitlines())
    if _log_fd is not None:
        log_frame("\n".join(lines), FRAME_TEXT_ERROR)
    else:
        sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


class _LoggingHook(object):
    """Sets up Lambda's log handler when the function first imports `logging`.

    AWS's runtime configures the root logger at start-up; importing logging costs milliseconds of
    every cold start, so ours configures it the moment the module is loaded instead, which no
    function can tell apart.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        sys.meta_path.remove(self)
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None:
            return None
        real = spec.loader

        class Loader(object):
            def create_module(self, spec):
                return real.create_module(spec)

            def exec_module(self, module):
                real.exec_module(module)
                setup_logging(module)

        spec.loader = Loader()
        return spec


def setup_logging(logging):

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            if _log_fd is not None:
                log_frame(self.format(record))
            else:
                sys.stdout.write(self.format(record))

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _request_id or ""
            record.tenant_id = None
            return True

    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(LambdaLoggerFilter())
    logger = logging.getLogger()
    level = getenv("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in logging._nameToLevel:
        logger.setLevel(level)
    logger.addHandler(handler)


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module %s as a handler module" % modname,
            )
        import importlib

        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR, "Syntax error in module '%s': %s" % (modname, e), trace
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (fname, modname)
        )


def _json_header(headers, name, label):
    value = headers.get(name)
    if not value:
        return None
    try:
        return json_loads(value)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (label, e)
        )


def handle(client, handler, headers, body):
    global _request_id
    request_id = headers.get("lambda-runtime-aws-request-id", "")
    _request_id = request_id
    trace_id = headers.get("lambda-runtime-trace-id")
    setenv("_X_AMZN_TRACE_ID", trace_id or None)
    error = None
    try:
        context = LambdaContext(
            request_id,
            _json_header(headers, "lambda-runtime-client-context", "Client Context"),
            _json_header(headers, "lambda-runtime-cognito-identity", "Cognito Identity"),
            int(headers.get("lambda-runtime-deadline-ms", "0") or 0),
            headers.get("lambda-runtime-invoked-function-arn"),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        content_type = headers.get("content-type", "application/json")
        if content_type == "application/json":
            try:
                event = json_loads(body)
            except Exception as e:
                raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e)
        else:
            event = body
        response = handler(event, context)
        if isinstance(response, bytes):
            result, result_type = response, "application/unknown"
        else:
            try:
                result, result_type = to_json(response).encode("utf-8"), "application/json"
            except Exception as e:
                raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: %s" % e)
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace, request_id)
    except Exception:
        error = fault_from_exception(sys.exc_info(), request_id)
    if error is not None:
        log_error(error)
        client.post_error(request_id, error)
    else:
        client.post_result(request_id, result, result_type)


def keep_bytecode_prefix_for_function_code():
    """Compile only the function's code (and layers) into PYTHONPYCACHEPREFIX.

    The executor's prefix is per cache folder; the standard library and the SDK would be compiled
    anew into each one. Their installation's own __pycache__ (which the host's imports share) is
    used instead, while the function's bytecode stays where the executor can clear it.
    """
    roots = popenv("_LAMBDATUI_CODE_ROOTS", "")
    prefix = sys.pycache_prefix
    if not roots or not prefix:
        return
    roots = [_abspath(r).rstrip("/") + "/" for r in roots.split(":") if r]
    # importlib's path machinery, already loaded (frozen): importing importlib would cost start-up time.
    ext = sys.modules["_frozen_importlib_external"]
    import _imp
    import _thread

    lock = _thread.allocate_lock()

    class FunctionSourceLoader(ext.SourceFileLoader):
        def get_code(self, fullname):
            # cache_from_source() reads sys.pycache_prefix; get_code() imports nothing, so the lock cannot deadlock.
            with lock:
                sys.pycache_prefix = prefix
                try:
                    return ext.SourceFileLoader.get_code(self, fullname)
                finally:
                    sys.pycache_prefix = None

    details = (
        (ext.ExtensionFileLoader, _imp.extension_suffixes()),
        (FunctionSourceLoader, ext.SOURCE_SUFFIXES),
        (ext.SourcelessFileLoader, ext.BYTECODE_SUFFIXES),
    )

    def is_function_code(path):
        path = _abspath(path or ".").rstrip("/") + "/"
        return any(path.startswith(root) for root in roots)

    def hook(path):
        if not _isdir(path or ".") or not is_function_code(path):
            raise ImportError("not a folder of the function's code", path=path)
        return ext.FileFinder(path, *details)

    sys.path_hooks.insert(0, hook)
    for path in list(sys.path_importer_cache):
        if is_function_code(path):
            del sys.path_importer_cache[path]
    sys.pycache_prefix = None


def main():
    # Lambda's sys.path starts at the task root: not the current directory (`-c`'s ''), nor our own
    # directory (sys.path[0] when this file is run as a script).
    if sys.path and (sys.path[0] == "" or _abspath(sys.path[0]) == _abspath(__file__).rpartition("/")[0]):
        del sys.path[0]
    _open_log_sink()
    keep_bytecode_prefix_for_function_code()
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    client = RuntimeClient(getenv("AWS_LAMBDA_RUNTIME_API"))
    try:
        # Connected before the handler is imported: the platform accepts the connection meanwhile.
        client._connect()
    except OSError:
        client.sock = None  # the first request connects again
    error = None
    try:
        if "logging" in sys.modules:
            setup_logging(sys.modules["logging"])
        else:
            sys.meta_path.insert(0, _LoggingHook())
        handler = get_handler(getenv("_HANDLER"))
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace)
    except Exception:
        error = fault_from_exception(sys.exc_info())
    if error is not None:
        import logging

        # Before the [ERROR] of an init error only: awslambdaric moved the warning from handler errors
        # to init errors ("Move unhandled exception warning message to init errors", #189, 3.1.1,
        # aimed at the managed runtimes).
        logging.warning(LAMBDA_WARNING)
        log_error(error)
        client.post_init_error(error)
        sys.exit(1)
    while True:
        headers, body = client.next()
        handle(client, handler, headers, body)


if __name__ == "__main__":
    main()
