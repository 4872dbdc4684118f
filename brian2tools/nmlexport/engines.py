"""
Simulate an exported LEMS file in a simulation engine.

Three engines are supported:

``'jneuroml'``
    jNeuroML's own LEMS interpreter (``jnml LEMS_FILE -nogui``), run in the
    LEMS file's folder.
``'neuron'``
    NEURON, through jNeuroML's NEURON writer: ``jnml LEMS_FILE -neuron
    -nogui -outputdir WORK`` writes one NMODL file per cell (and input,
    synapse) component and a Python script ``LEMS_FILE_nrn.py`` into a work
    folder; ``nrnivmodl`` compiles the NMODL files; the script, run with
    this Python, simulates and writes the recordings.
``'netpyne'``
    NetPyNE on one or more MPI ranks (``ranks``), the way to scale past one
    machine: ``jnml LEMS_FILE -netpyne`` writes the same NMODL files (patched
    and compiled the same way, with the same cache), the network as NeuroML
    and a NetPyNE script, which runs under ``mpiexec -n RANKS`` (see
    :mod:`brian2tools.nmlexport.netpyne_engine`).

Either way the recordings end up where the Simulation's ``OutputFile`` and
``EventOutputFile`` elements say, relative to the LEMS file (so
:func:`brian2tools.nmlexport.load_recordings` and other readers need not know
which engine ran).

Decisions:

* A failure raises :class:`EngineError`, naming the engine, the step that
  failed (``'jnml'``, ``'nrnivmodl'``, ``'simulation'``, ...) and the
  relevant lines of the step's output. The script that jNeuroML writes for
  NEURON catches its own exceptions and exits with status 0, and NEURON
  reports errors in hoc statements without stopping (a recording of an
  unknown variable is then written as zeros), so the output of every step
  is searched for error messages, not only its exit status.
* Compiled mechanisms are cached, keyed by a hash of the NMODL files and of
  the ``nrnivmodl`` used: repeated runs of an unchanged model (or of models
  that differ only in the network, not in the components) skip the
  compilation, which takes about half a second per NMODL file.
* The work folder of the NEURON (NetPyNE) engine is a sub-folder of the
  LEMS file's folder named after the LEMS file (``LEMS_FILE_neuron``,
  ``LEMS_FILE_netpyne``), emptied of the generated files of a previous run
  first, so that the NMODL files of different models never mix.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from brian2.utils.logger import get_logger

from brian2tools.baseexport.errors import SimulationError
from brian2tools.nmlexport.cli import JNeuroMLNotFound, find_jneuroml
from brian2tools.nmlexport.per_cell_initial import refuse_for_jneuroml

__all__ = ["ENGINES", "EngineError", "EngineRun", "simulate", "engine_available",
           "neuron_mechanism_cache"]


def neuron_mechanism_cache() -> Path:
    """
    Where the NEURON engine keeps compiled mechanisms by default.

    Kept here, where brian2tools 0.4 first had it; the NEURON engine
    (`.neuron_engine.neuron_mechanism_cache`) says how the folder is chosen.

    Returns
    -------
    Path
        A folder named ``neuron``; it may not exist yet.

    Examples
    --------
    >>> folder = neuron_mechanism_cache()
    >>> folder.name == 'neuron' and folder.is_absolute()
    True
    """
    from .neuron_engine import neuron_mechanism_cache as cache_folder

    return cache_folder()

logger = get_logger(__name__)

#: The engines :func:`simulate` knows.
ENGINES = ("jneuroml", "neuron", "netpyne")

_INSTALL_NEURON = ("Install NEURON ('pip install neuron'; on Windows use the installer from "
                   "https://nrn.readthedocs.io) into the Python environment that runs "
                   "brian2tools, so that 'nrnivmodl' is next to the Python executable or on "
                   "the PATH.")

# Lines that mean a step failed although its exit status may be 0.
_JNML_ERRORS = re.compile(r"SEVERE|Exception|Error:|not known to NEURON")
_SIMULATION_ERRORS = re.compile(
    r"Traceback|Error|not a public member|Exception|NEURON: |near line|segmentation",
    re.IGNORECASE)
# Messages NEURON prints on every run without a display; not errors.
_HARMLESS = re.compile(r"no DISPLAY environment variable|No graphics will be displayed")


class EngineError(SimulationError):
    """
    A simulation engine could not simulate a LEMS file.

    Parameters
    ----------
    engine : str
        The engine (``'jneuroml'``, ``'neuron'`` or ``'netpyne'``).
    step : str
        The step that failed (see the attribute).
    message : str
        What went wrong, with the relevant lines of the step's output.
    log : str, optional
        The full output of the step.

    Attributes
    ----------
    engine : str
        The engine (``'jneuroml'``, ``'neuron'`` or ``'netpyne'``).
    step : str
        The step that failed: ``'setup'`` (an engine or tool is missing),
        ``'jnml'`` (jNeuroML reading the model or writing NEURON code),
        ``'nrnivmodl'`` (compiling the NMODL files), ``'simulation'``
        (running the model; on any MPI rank for NetPyNE), ``'recordings'``
        (a recording was not written) or ``'timeout'``.
    log : str
        The full output of the step.
    """

    def __init__(self, engine: str, step: str, message: str, log: str = ""):
        self.engine, self.step, self.log = engine, step, log
        self._message = message
        super().__init__(f"{engine} engine, step '{step}': {message}")

    def __reduce__(self):
        return (type(self), (self.engine, self.step, self._message, self.log))


@dataclass
class EngineRun:
    """
    Where a simulation run put its recordings, and how it went.

    Attributes
    ----------
    engine : str
        The engine that ran.
    lems_file : Path
        The simulated LEMS file.
    folder : Path
        The folder the recording file names are relative to (the LEMS
        file's folder).
    recordings : list of Path
        The recording files the Simulation names (``OutputFile`` and
        ``EventOutputFile``), all written by this run.
    log : str
        The output of the engine's steps, one after the other.
    wall_time : float
        Seconds the whole run took.
    step_times : dict
        Seconds per step (e.g. ``{'jnml': 1.2, 'nrnivmodl': 0.0,
        'simulation': 0.4}``; ``nrnivmodl`` is 0 when cached mechanisms
        were used).
    work_folder : Path or None
        The NEURON (NetPyNE) engine's folder of generated code (None for
        jNeuroML).
    ranks : int
        The number of MPI ranks that simulated (always 1 but for NetPyNE).
    """

    engine: str
    lems_file: Path
    folder: Path
    recordings: list = field(default_factory=list)
    log: str = ""
    wall_time: float = 0.0
    step_times: dict = field(default_factory=dict)
    work_folder: Path | None = None
    ranks: int = 1


def _environment() -> dict:
    # The venv's bin first: nrnivmodl and the tools it calls live there, and
    # generated scripts must import the same NEURON as this Python.
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("MPLBACKEND", "Agg")
    env.pop("DISPLAY", None)  # NEURON must not try to open windows
    return env


def _find_nrnivmodl() -> str | None:
    name = "nrnivmodl.bat" if os.name == "nt" else "nrnivmodl"
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    return shutil.which("nrnivmodl")


def engine_available(engine: str) -> str | None:
    """
    Whether an engine can run here.

    Parameters
    ----------
    engine : {'jneuroml', 'neuron', 'netpyne'}
        ``'netpyne'`` needs NEURON, NetPyNE, mpi4py and ``mpiexec``.

    Returns
    -------
    str or None
        None if the engine is usable, else the reason it is not (with how
        to install what is missing).

    Raises
    ------
    ValueError
        If the engine is not one of :data:`ENGINES`.

    Examples
    --------
    >>> reason = engine_available('neuron')
    >>> reason is None or 'install' in reason.lower()
    True
    """
    _check_engine(engine)
    try:
        find_jneuroml()
    except JNeuroMLNotFound as error:
        return str(error)
    if engine == "jneuroml":
        return None
    import importlib.util
    if importlib.util.find_spec("neuron") is None:
        return f"NEURON's Python module is not installed. {_INSTALL_NEURON}"
    if _find_nrnivmodl() is None:
        return f"NEURON's 'nrnivmodl' was not found. {_INSTALL_NEURON}"
    if os.name != "nt" and not any(shutil.which(cc) for cc in ("cc", "gcc", "clang")):
        return ("NEURON's 'nrnivmodl' needs a C/C++ compiler, and none was found "
                "(e.g. 'sudo apt install build-essential', or Xcode's command line tools).")
    if engine == "netpyne":
        from brian2tools.nmlexport.netpyne_engine import netpyne_unavailable
        return netpyne_unavailable()
    return None


def _check_engine(engine):
    if engine not in ENGINES:
        raise ValueError(f"Unknown simulation engine {engine!r}; use one of "
                         f"{', '.join(map(repr, ENGINES))}.")


def _recording_names(lems_file: Path) -> list[str]:
    # simulate() and the engines both ask: a large network's file is parsed once
    stat = lems_file.stat()
    return list(_recording_names_of(lems_file, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _recording_names_of(lems_file: Path, modified: int, size: int) -> tuple[str, ...]:
    try:
        root = ET.parse(lems_file).getroot()
    except ET.ParseError as error:
        raise ValueError(f"'{lems_file}' is not a readable LEMS (XML) file: {error}") from None
    return tuple(element.get("fileName") for tag in ("OutputFile", "EventOutputFile")
                 for element in root.iter(tag) if element.get("fileName"))


def _relevant(log: str, pattern: re.Pattern, limit: int = 40, after: int = 8) -> str:
    # each error line with the lines after it (jNeuroML prints the reason
    # below a bare "SEVERE: (ERROR)", Java the cause below the exception)
    lines = log.splitlines()
    keep: list[int] = []
    for number, line in enumerate(lines):
        if pattern.search(line) and not _HARMLESS.search(line):
            keep.extend(range(number, min(number + after + 1, len(lines))))
    picked = [lines[number] for number in sorted(set(keep))
              if lines[number].strip() and "(INFO)" not in lines[number]]
    if not picked:  # no message we know: the end of the output says most
        picked = log.strip().splitlines()[-limit:]
    return "\n".join(picked[:limit])


def _run_step(engine: str, step: str, command: list, cwd: Path, timeout: float | None,
              env: dict) -> tuple[str, int, float]:
    start = time.perf_counter()
    logger.debug(f"{engine} engine, step '{step}': {' '.join(map(str, command))} (in {cwd})")
    try:
        completed = subprocess.run([str(part) for part in command], cwd=cwd,
                                   capture_output=True, text=True, timeout=timeout,
                                   env=env, check=False)
    except subprocess.TimeoutExpired as error:
        output = (error.stdout or b"")
        output = output.decode(errors="replace") if isinstance(output, bytes) else output
        raise EngineError(engine, "timeout",
                          f"step '{step}' took longer than {timeout} s", output) from None
    except OSError as error:  # the program itself could not be started
        raise EngineError(engine, "setup", f"could not start {command[0]}: {error}") from None
    return completed.stdout + completed.stderr, completed.returncode, \
        time.perf_counter() - start


def _clear_old(paths: list[Path]) -> dict:
    # Remember modification times, so that a recording left over from an
    # earlier run is not taken for one written by this run.
    return {path: path.stat().st_mtime_ns if path.exists() else None for path in paths}


def _check_written(engine: str, paths: list[Path], before: dict, log: str):
    missing = [path for path in paths
               if not path.exists() or path.stat().st_mtime_ns == before[path]]
    if missing:
        raise EngineError(engine, "recordings",
                          "the simulation did not write "
                          f"{', '.join(str(path) for path in missing)}:\n"
                          f"{_relevant(log, _SIMULATION_ERRORS)}", log)


def simulate(lems_file: str | os.PathLike, engine: str = "jneuroml", *,
             timeout: float | None = None, jar: str | os.PathLike | None = None,
             work_folder: str | os.PathLike | None = None,
             cache: str | os.PathLike | bool = True, ranks: int = 1,
             linear_synapses: bool = False, compact_script: bool = True) -> EngineRun:
    """
    Simulate a LEMS file in an engine; the recordings land where it says.

    Parameters
    ----------
    lems_file : str or os.PathLike
        The LEMS file with the ``Simulation`` to run (its ``Target``).
    engine : {'jneuroml', 'neuron', 'netpyne'}, optional
        The engine (default: jNeuroML's LEMS interpreter).
    timeout : float, optional
        Seconds each step may take (default: no limit).
    jar : str or os.PathLike, optional
        A jNeuroML jar to use instead of pyNeuroML's.
    work_folder : str or os.PathLike, optional
        NEURON and NetPyNE engines only: the folder for the generated NMODL
        files and script (default: ``LEMS_FILE_neuron`` or
        ``LEMS_FILE_netpyne`` next to the LEMS file). Files generated there
        by an earlier run are deleted first.
    cache : bool or str or os.PathLike, optional
        NEURON and NetPyNE engines only: reuse compiled mechanisms of
        identical NMODL files. True (default) uses
        :func:`neuron_mechanism_cache`, a path uses that folder, False
        compiles in the work folder every time.
    linear_synapses : bool, optional
        NEURON engine only: the synapse types are linear (as in the portable
        form of brian2tools' export), so the synapses of one type on one
        cell are simulated as one (`~.neuron_code.share_synapses`; exact,
        and much faster for networks). Default False.
    compact_script : bool, optional
        NEURON engine only: write the connections of jNeuroML's script as
        loops over tables instead of two hoc statements per connection
        (`~.neuron_code.compact_connections`; exact, and a network's script
        is several times smaller and faster to start). Default True.
    ranks : int, optional
        NetPyNE engine only: the number of MPI ranks (processes) to
        simulate on (default 1, without ``mpiexec``). NetPyNE distributes
        the cells over the ranks; the recordings are the same.

    Returns
    -------
    EngineRun

    Raises
    ------
    FileNotFoundError
        If the LEMS file does not exist.
    ValueError
        If the engine is unknown, the file is not XML, or ``ranks`` is not
        a positive integer (or more than 1 for another engine); for
        jNeuroML, if the file keeps per-cell initial values that only the
        NEURON and NetPyNE engines set (:mod:`.per_cell_initial`).
    EngineError
        If the engine is not installed (step ``'setup'``) or a step of the
        simulation fails; the message has the step's relevant output.

    Examples
    --------
    >>> result = simulate('LEMS_model.xml', 'neuron')  # doctest: +SKIP
    >>> [path.name for path in result.recordings]  # doctest: +SKIP
    ['v.dat', 'spikes.spikes']
    """
    _check_engine(engine)
    if isinstance(ranks, bool) or not isinstance(ranks, int) or ranks < 1:
        raise ValueError(f"The number of MPI ranks must be a positive integer, not {ranks!r}.")
    if ranks != 1 and engine != "netpyne":
        raise ValueError(f"Only the 'netpyne' engine runs on several MPI ranks, not {engine!r}.")
    lems_file = Path(lems_file).resolve()
    if not lems_file.is_file():
        raise FileNotFoundError(f"No LEMS file at '{lems_file}'.")
    reason = engine_available(engine)
    if reason is not None:
        raise EngineError(engine, "setup", reason)
    java, jar = find_jneuroml(jar)
    recordings = [lems_file.parent / name for name in _recording_names(lems_file)]
    for path in recordings:  # jNeuroML does not create the folders it writes to
        path.parent.mkdir(parents=True, exist_ok=True)
    before = _clear_old(recordings)
    start = time.perf_counter()
    if engine == "jneuroml":
        refuse_for_jneuroml(lems_file)
        result = _simulate_jneuroml(lems_file, java, jar, timeout)
    elif engine == "neuron":
        from .neuron_engine import simulate_neuron  # it builds on this module

        result = simulate_neuron(lems_file, java, jar, timeout, work_folder, cache,
                                  linear_synapses, compact_script)
    else:
        from brian2tools.nmlexport.netpyne_engine import simulate_netpyne
        result = simulate_netpyne(lems_file, java, jar, timeout, work_folder, cache, ranks)
    _check_written(engine, recordings, before, result.log)
    result.recordings = recordings
    result.wall_time = time.perf_counter() - start
    logger.debug(f"{engine} engine simulated {lems_file} in {result.wall_time:.1f} s "
                 f"({result.step_times})")
    return result


def _simulate_jneuroml(lems_file: Path, java: str, jar: str, timeout) -> EngineRun:
    log, status, seconds = _run_step("jneuroml", "jnml",
                                     [java, "-jar", jar, lems_file.name, "-nogui"],
                                     lems_file.parent, timeout, _environment())
    if status != 0 or _JNML_ERRORS.search(log) or \
            "Finished reading, building, running" not in log:
        raise EngineError("jneuroml", "jnml",
                          f"jNeuroML could not simulate {lems_file} (exit status {status}):\n"
                          f"{_relevant(log, _JNML_ERRORS)}", log)
    return EngineRun("jneuroml", lems_file, lems_file.parent, log=log,
                     step_times={"jnml": seconds})


def _mechanism_library(folder: Path) -> Path | None:
    # nrnivmodl writes into a folder named after the machine (x86_64, arm64, ...)
    for pattern in ("*/.libs/libnrnmech.*", "*/libnrnmech.*", "nrnmech.dll"):
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
    return None


def _fresh_work_folder(lems_file: Path, work_folder, engine: str) -> Path:
    """The work folder of a generating engine, without a previous model's code."""
    work = Path(work_folder).resolve() if work_folder else \
        lems_file.parent / f"{lems_file.stem}_{engine}"
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("*.mod"):  # a previous model's code must not mix in
        old.unlink(missing_ok=True)
    for built in [path for path in work.iterdir() if _mechanism_library(path) is not None
                  or path.name in ("x86_64", "arm64", "aarch64")]:
        shutil.rmtree(built, ignore_errors=True)
    return work


def _deliver(engine: str, work: Path, folder: Path, names: list[str], before: dict, log: str):
    # the generated scripts write the recordings into the work folder
    _check_written(engine, [work / name for name in names], before, log)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(work / name, folder / name)
