"""The Python language host of the test environment.

Pulumi's own `pulumi-language-python` is a Go program whose module is not served by the Go
module proxy this project can reach, and no registry ships it prebuilt. The Python SDK itself
ships a complete LanguageRuntime server: the one the Automation API uses to run inline
programs (`pulumi.automation._server.LanguageServer`). This host serves that server as a
language plugin, so the real pulumi CLI runs a real Python program with the real SDK; it only
adds plugin boot (print the port, take the engine address) and loading the program from disk.
"""

import glob
import os
import runpy
import site
import sys
from concurrent import futures

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2_grpc


class ProgramLanguageServer(LanguageServer):
    """Runs the program directory the engine names, like the Go host does."""

    def __init__(self, engine_address: str) -> None:
        super().__init__(program=None)
        self.engine_address = engine_address

    def Run(self, request, context):
        info = request.info
        directory = info.program_directory or os.path.join(request.pwd, request.program)
        entry = info.entry_point if info.entry_point not in ("", ".") else "__main__.py"
        main = os.path.join(directory, entry)
        os.chdir(request.pwd or directory)
        use_virtualenv(info)
        sys.path.insert(0, directory)
        sys.argv = [main, *request.args]
        self.program = lambda: runpy.run_path(main, run_name="__main__")
        # The inline server takes the engine address from the first program argument.
        del request.args[:]
        request.args.append(self.engine_address)
        return super().Run(request, context)


def use_virtualenv(info) -> None:
    """Makes the packages of the program's virtualenv (Pulumi.yaml `runtime.options.virtualenv`,
    relative to the project) importable, as Pulumi's host does by running the program with that
    virtualenv's interpreter. This host runs programs in its own interpreter, which has the pulumi
    SDK of the CLI's version; the virtualenv adds what the program installed (such as a generated
    provider SDK)."""
    options = dict(info.options.items()) if info.HasField("options") else {}
    virtualenv = options.get("virtualenv") or options.get("virtualEnv")
    if not virtualenv:
        return
    venv = os.path.join(info.root_directory, virtualenv)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    found = glob.glob(os.path.join(venv, "lib", version, "site-packages"))
    if not found:
        raise RuntimeError(
            f"the program's virtualenv {venv} has no lib/{version}/site-packages: create it with "
            f"`python{sys.version_info.major}.{sys.version_info.minor} -m venv {virtualenv}` and install "
            "the program's packages into it"
        )
    site.addsitedir(found[0])


def main() -> None:
    positional = [a for a in sys.argv[1:] if not a.startswith("-")]
    engine_address = positional[-1] if positional else ""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(
        ProgramLanguageServer(engine_address), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        # The engine interrupts its plugins when it is done with them.
        server.stop(grace=1)


if __name__ == "__main__":
    main()
