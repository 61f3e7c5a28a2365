"""The Node.js language host of the test environment.

Pulumi's own `pulumi-language-nodejs` is a Go program whose module the Go module proxy here
refuses, and no registry ships it prebuilt. It is a thin layer, though: on `Run` it starts
`node <@pulumi/pulumi>/cmd/run <flags> <entry point>` from the program's own node_modules and
hands the configuration over in environment variables; the runner in `@pulumi/pulumi` does
everything else (ts-node for TypeScript, the resource monitor connection, error reporting).
This host speaks the same contract, written from the Go host's `constructArguments`,
`constructConfig` and `execRuntime` (pulumi v3.259.0) and from `cmd/run/index.js` and
`cmd/run/run.js` of `@pulumi/pulumi`:

  node [nodeargs] <run path> --monitor <addr> --engine <addr> [--organization <o>]
       [--project <p>] [--root-directory <dir>] [--stack <s>] --pwd <program dir>
       [--dry-run] [--parallel <n>] [--tracing <url>] <entry point> [args...]

  PULUMI_CONFIG               {"<namespace>:config:<name>": "<value>", ...}  (legacy key form)
  PULUMI_CONFIG_SECRET_KEYS   ["<namespace>:<name>", ...]
  PULUMI_NODEJS_TYPESCRIPT    "true" unless Pulumi.yaml sets `runtime.options.typescript: false`
  PULUMI_NODEJS_TSCONFIG_PATH `runtime.options.tsconfig`, when set

Differences from the Go host, none visible to a program: it gives node the engine's monitor
address directly instead of a forwarding proxy, and it passes no `--sync` directory (the
synchronous-invoke pipes it served are no longer read by `@pulumi/pulumi`:
`runtime/settings.js` still defines `tryGetSyncInvokes`, but nothing calls it). The bun
runtime, debugger attach, `RunPlugin`, code generation, `Pack` and `Link` are not provided.

Exit codes of node follow the Go host: 0 is success; 32 means the runner already reported the
error to the engine (`log.error`), so the response is `bail` with no further message; anything
else is an error naming the exit code (node's own output has already reached the CLI, because
node writes to this plugin's stdout and stderr, which the CLI shows).
"""

import json
import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent import futures

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

# The runner's "I already showed the user an actionable error" exit code
# (`nodeJSProcessExitedAfterLoggingUserActionableMessage` in cmd/run/index.js).
EXIT_ERROR_ALREADY_REPORTED = 32
DEFAULT_RUN_PATH = "@pulumi/pulumi/cmd/run"


class NodeLanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address: str, tracing: str, version: str) -> None:
        self.engine_address = engine_address
        self.tracing = tracing
        self.version = version
        self.children: set[subprocess.Popen] = set()
        self.lock = threading.Lock()

    # --- plugin boot -----------------------------------------------------------------------

    def Handshake(self, request, context):
        self.engine_address = request.engine_address
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=self.version)

    # --- plugins and dependencies ----------------------------------------------------------

    def GetRequiredPlugins(self, request, context):
        # Deprecated; the CLI asks GetRequiredPackages. The Go host answers UNIMPLEMENTED.
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request, context):
        # The Go host lists node_modules packages marked `"pulumi": {"resource": true}` so the
        # CLI can download their plugins. The test programs use no such package (our provider
        # comes from PATH), so there is nothing to report.
        return language_pb2.GetRequiredPackagesResponse()

    def InstallDependencies(self, request, context):
        directory = request.info.program_directory or request.directory
        if os.path.isdir(os.path.join(directory, "node_modules")):
            yield language_pb2.InstallDependenciesResponse(
                stdout=b"node_modules is present: nothing to install\n"
            )
            return
        npm = shutil.which("npm")
        if npm is None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "npm is not on PATH")
        has_lock = os.path.exists(os.path.join(directory, "package-lock.json"))
        command = [npm, "ci" if has_lock else "install", "--no-audit", "--no-fund"]
        yield language_pb2.InstallDependenciesResponse(
            stdout=f"Installing dependencies: {' '.join(command[1:])}\n\n".encode()
        )
        chunks: queue.Queue = queue.Queue()
        process = subprocess.Popen(
            command,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

        def pump(stream, field):
            for line in iter(stream.readline, b""):
                chunks.put((field, line))
            chunks.put(None)

        for stream, field in ((process.stdout, "stdout"), (process.stderr, "stderr")):
            threading.Thread(target=pump, args=(stream, field), daemon=True).start()
        open_streams = 2
        while open_streams:
            item = chunks.get()
            if item is None:
                open_streams -= 1
                continue
            field, data = item
            yield language_pb2.InstallDependenciesResponse(**{field: data})
        code = process.wait()
        if code != 0:
            context.abort(grpc.StatusCode.UNKNOWN, f"npm {command[1]} exited with code {code}")
        yield language_pb2.InstallDependenciesResponse(
            stdout=b"Finished installing dependencies\n\n"
        )

    def GetProgramDependencies(self, request, context):
        directory = request.info.program_directory or request.pwd
        modules = os.path.join(directory, "node_modules")
        if request.transitiveDependencies:
            names = []
            for entry in sorted(os.listdir(modules)) if os.path.isdir(modules) else []:
                if entry.startswith("."):
                    continue
                if entry.startswith("@"):
                    scoped = sorted(os.listdir(os.path.join(modules, entry)))
                    names += [f"{entry}/{name}" for name in scoped]
                else:
                    names.append(entry)
        else:
            manifest = read_json(os.path.join(directory, "package.json")) or {}
            names = sorted(
                {
                    *manifest.get("dependencies", {}),
                    *manifest.get("devDependencies", {}),
                }
            )
        dependencies = []
        for name in names:
            installed = read_json(os.path.join(modules, name, "package.json"))
            if installed and "version" in installed:
                dependencies.append(
                    language_pb2.DependencyInfo(name=name, version=installed["version"])
                )
        return language_pb2.GetProgramDependenciesResponse(dependencies=dependencies)

    def About(self, request, context):
        node = shutil.which("node") or ""
        metadata = {"packagemanager": "npm"}
        npm_version = command_output(["npm", "--version"])
        if npm_version:
            metadata["packagemanagerVersion"] = npm_version
        typescript = command_output(
            ["node", "-e", "console.log(require('typescript/package.json').version)"],
            cwd=request.info.program_directory or None,
        )
        if typescript:
            metadata["typescriptVersion"] = typescript
        return language_pb2.AboutResponse(
            executable=node,
            version=command_output(["node", "--version"]),
            metadata=metadata,
        )

    def RuntimeOptionsPrompts(self, request, context):
        return language_pb2.RuntimeOptionsResponse()

    def Template(self, request, context):
        return language_pb2.TemplateResponse()

    # --- running a program -----------------------------------------------------------------

    def Run(self, request, context):
        info = request.info
        directory = info.program_directory or os.path.join(request.pwd, request.program)
        options = json_format.MessageToDict(info.options) if info.HasField("options") else {}
        node = shutil.which("node")
        if node is None:
            return language_pb2.RunResponse(error="could not find node on the $PATH")

        run_path, error = locate_runner(node, directory)
        if error:
            return language_pb2.RunResponse(error=error)

        try:
            config = {legacy_config_key(k): v for k, v in request.config.items()}
        except ValueError as exn:
            return language_pb2.RunResponse(error=f"failed to serialize configuration: {exn}")
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(config)
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        if options.get("typescript", True):
            env["PULUMI_NODEJS_TYPESCRIPT"] = "true"
        if options.get("tsconfig"):
            env["PULUMI_NODEJS_TSCONFIG_PATH"] = options["tsconfig"]

        args = [node, *shlex.split(options.get("nodeargs", "")), run_path]

        def flag(name, value):
            if value:
                args.extend([f"--{name}", str(value)])

        flag("monitor", request.monitor_address)
        flag("engine", self.engine_address)
        flag("organization", request.organization)
        flag("project", request.project)
        flag("root-directory", info.root_directory)
        flag("stack", request.stack)
        flag("pwd", directory)
        if request.dryRun:
            args.append("--dry-run")
        args.extend(["--parallel", str(request.parallel)])
        flag("tracing", self.tracing)
        args.append(info.entry_point or ".")
        args.extend(request.args)

        try:
            # stdout and stderr are this plugin's, which the CLI shows as the program's output.
            process = subprocess.Popen(args, cwd=directory, env=env, stdin=subprocess.DEVNULL)
        except OSError as exn:
            return language_pb2.RunResponse(
                error=f"Problem executing program (could not run language executor): {exn}"
            )
        with self.lock:
            self.children.add(process)
        # The engine cancelling the call (Ctrl-C, a failed step) interrupts node as well.
        context.add_callback(lambda: interrupt(process))
        try:
            code = process.wait()
        finally:
            with self.lock:
                self.children.discard(process)
        sys.stdout.flush()
        sys.stderr.flush()
        if code == 0:
            return language_pb2.RunResponse()
        if code == EXIT_ERROR_ALREADY_REPORTED:
            return language_pb2.RunResponse(bail=True)
        if code < 0:
            return language_pb2.RunResponse(
                error=f"Program was terminated by signal {signal.Signals(-code).name}"
            )
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {code}")

    def Cancel(self, request, context):
        with self.lock:
            children = list(self.children)
        for child in children:
            interrupt(child)
        return empty_pb2.Empty()

    def stop_children(self) -> None:
        with self.lock:
            children = list(self.children)
        for child in children:
            if child.poll() is None:
                child.kill()


def locate_runner(node: str, directory: str) -> tuple[str, str]:
    """Resolves `@pulumi/pulumi/cmd/run` the way node will, from the program directory."""
    module = os.environ.get("PULUMI_LANGUAGE_NODEJS_RUN_PATH") or DEFAULT_RUN_PATH
    script = (
        f"try {{ console.log(require.resolve({json.dumps(module)})); }} catch (error) {{"
        " if (error.code === 'MODULE_NOT_FOUND') {"
        " console.error('It looks like the Pulumi SDK has not been installed."
        " Have you run pulumi install (or npm ci in ' + process.cwd() + ')?');"
        " } else { console.error(error.message); } process.exit(1); }"
    )
    result = subprocess.run(
        [node, "-e", script],
        cwd=directory,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return "", result.stderr.strip() or f"node exited with code {result.returncode}"
    return result.stdout.strip(), ""


def legacy_config_key(key: str) -> str:
    """`ns:name` (or an already legacy `ns:config:name`) as the `ns:config:name` form that the
    Go host hands to the runner, like its `constructConfig`."""
    parts = key.split(":")
    if len(parts) == 2 and all(parts):
        namespace, name = parts
    elif len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        namespace, name = parts[0], parts[2]
    else:
        raise ValueError(f"could not parse {key!r} as a configuration key")
    return f"{namespace}:config:{name}"


def interrupt(process: subprocess.Popen) -> None:
    """SIGINT, then SIGKILL after 5 s, like the Go host's command cancellation."""
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGINT)
    except ProcessLookupError:
        return

    def kill_later():
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()

    threading.Thread(target=kill_later, daemon=True).start()


def read_json(path: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def command_output(command: list[str], cwd: str | None = None) -> str:
    try:
        result = subprocess.run(
            command, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def parse_arguments(argv: list[str]) -> tuple[str, str, str]:
    """The CLI starts a language plugin as `[--logtostderr] [-v=N] [--tracing URL] ENGINE`; our
    launcher puts `--plugin-version V` first. Returns (engine address, tracing, version)."""
    engine, tracing, version = "", "", ""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--tracing", "-tracing", "--plugin-version") and i + 1 < len(argv):
            if arg == "--plugin-version":
                version = argv[i + 1]
            else:
                tracing = argv[i + 1]
            i += 2
            continue
        if arg.startswith(("--tracing=", "-tracing=")):
            tracing = arg.split("=", 1)[1]
        elif not arg.startswith("-"):
            engine = arg
        i += 1
    return engine, tracing, version


def watch_parent(host: NodeLanguageHost) -> None:
    """Exits when the CLI that started us is gone (the Go host health-checks the engine for the
    same reason), so a killed `pulumi` leaves no host or node process behind."""
    parent = os.getppid()
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            host.stop_children()
            os._exit(1)


def main() -> None:
    engine_address, tracing, version = parse_arguments(sys.argv[1:])
    host = NodeLanguageHost(engine_address, tracing, version)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(host, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    threading.Thread(target=watch_parent, args=(host,), daemon=True).start()
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        # The engine interrupts its plugins when it is done with them.
        host.stop_children()
        server.stop(grace=1)


if __name__ == "__main__":
    main()
