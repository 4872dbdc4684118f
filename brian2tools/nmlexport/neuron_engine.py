"""
The NEURON engine: jNeuroML's NEURON code, corrected, compiled and run.

``jnml LEMS_FILE -neuron -nogui -outputdir WORK`` writes one NMODL file per
cell (and input, synapse) component and a Python script
``LEMS_FILE_nrn.py``. Before compiling and running them:

* the sections of abstract cells get exactly the 1 nF their mechanisms
  assume (jNeuroML's script rounds it; `.neuron_code.exact_capacitance`);
* the NMODL files are corrected for two defects of jNeuroML 0.14's
  mechanisms (the rates of the initial state were computed at NEURON's
  -65 mV; after a reset, ``v_I = 0`` froze v for a step) and for NEURON 9's
  declarations of its random functions (`_patch_mod_files`);
* components of one cell type share one mechanism, linear synapses of one
  type on one cell one point process, and the script's connections become
  loops over tables (:mod:`.neuron_code`); synapses onto cells whose ``v``
  is ``(unless refractory)`` read the cell's refractoriness
  (:mod:`.neuron_gates`); cells of one population get their own initial
  values (:mod:`.per_cell_initial`);
* ``nrnivmodl`` compiles the mechanisms into a cache keyed by their text
  (`neuron_mechanism_cache`), and the script runs with this Python.

:func:`brian2tools.nmlexport.engines.simulate` is the way in; the NetPyNE
engine (:mod:`.netpyne_engine`) uses the same patches and compilation.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from brian2.utils.logger import get_logger

from brian2tools.baseexport import write_text_atomic

from .engines import (
    _HARMLESS,
    _JNML_ERRORS,
    _SIMULATION_ERRORS,
    EngineError,
    EngineRun,
    _clear_old,
    _deliver,
    _environment,
    _find_nrnivmodl,
    _fresh_work_folder,
    _mechanism_library,
    _recording_names,
    _relevant,
    _run_step,
)
from .neuron_code import (
    compact_connections,
    exact_capacitance,
    share_mechanisms,
    share_synapses,
)
from .neuron_connections import (
    expand_connections,
    read_projections,
    strip_connections,
    stripped_path,
)
from .neuron_gates import gate_synapses
from .per_cell_initial import read_initial_values, set_in_script

__all__ = ["neuron_mechanism_cache", "simulate_neuron"]

logger = get_logger(__name__)

_NRNIVMODL_ERRORS = re.compile(r"Illegal|error:|Error |Error:|\*\*\* ")


def neuron_mechanism_cache() -> Path:
    """
    The default folder of compiled NEURON mechanisms.

    ``$BRIAN2TOOLS_CACHE/neuron`` if that variable is set, else
    ``brian2tools/neuron`` in the user's cache folder (``$XDG_CACHE_HOME``
    or ``~/.cache``). One sub-folder per set of NMODL files; deleting the
    folder is always safe.

    Returns
    -------
    Path

    Examples
    --------
    >>> neuron_mechanism_cache().name
    'neuron'
    """
    if os.environ.get("BRIAN2TOOLS_CACHE"):
        return Path(os.environ["BRIAN2TOOLS_CACHE"]) / "neuron"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "brian2tools" / "neuron"


# jNeuroML 0.14 declares two functions of NEURON's random API in every NMODL
# file that uses random() (spikeGeneratorPoisson, poissonFiringSynapse, any
# LEMS random()); NEURON 9 declares them itself with other types, and the
# compiler stops ("ambiguating new declaration of 'void* nrn_random_arg(int)'").
# Kept for older NEURON versions, skipped for NEURON 9 and later.
_OLD_RANDOM_DECLARATIONS = ("double nrn_random_pick(void* r);\n"
                            "void* nrn_random_arg(int argpos);\n")
_GUARDED_RANDOM_DECLARATIONS = (
    "#if defined(NRN_VERSION_GTEQ)\n#if NRN_VERSION_GTEQ(9, 0, 0)\n"
    "#define BRIAN2TOOLS_NRN_DECLARES_RANDOM 1\n#endif\n#endif\n"
    "#ifndef BRIAN2TOOLS_NRN_DECLARES_RANDOM\n" + _OLD_RANDOM_DECLARATIONS + "#endif\n")


_INITIAL_STATES = re.compile(
    r"(if \(flag == 1\) \{ : Set initial states\n.*?)(\n    \})", re.DOTALL)
_RATES_AT_START = "\n        rates() : brian2tools: the rates of the initial state"
_FROZEN_RATE = "v_I = 0 : Setting rate of change of v to 0"
_RATES_AFTER_RESET = "rates() : brian2tools: the rates of the state after the reset"


def _patch_mod_files(mod_files: list[Path]) -> list[str]:
    """
    Fix two problems of the generated NMODL files; the names of those changed.

    * With NEURON 9, the declarations of its random number functions that
      jNeuroML writes do not compile: they are guarded by NEURON's version.
    * The INITIAL block computes the rates before the event that sets the
      initial state (at ``t = 0``) runs, so the first step of ``v`` uses the
      rate at NEURON's default ``v_init`` (-65 mV): the rates are computed
      again once the initial state is set.
    * After a reset, the generated code sets the rate of change of ``v`` to
      zero, which freezes ``v`` for one step (every interval between spikes
      one step longer than Brian's): the rates of the state after the reset
      are computed instead.
    """
    patched = []
    for path in mod_files:
        text = original = path.read_text()
        if _OLD_RANDOM_DECLARATIONS in text and "BRIAN2TOOLS_NRN" not in text:
            text = text.replace(_OLD_RANDOM_DECLARATIONS, _GUARDED_RANDOM_DECLARATIONS)
        if "PROCEDURE rates()" in text and _RATES_AT_START not in text:
            text = _INITIAL_STATES.sub(lambda m: m.group(1) + _RATES_AT_START + m.group(2),
                                       text, count=1)
            text = text.replace(_FROZEN_RATE, _RATES_AFTER_RESET)
        if text != original:
            path.write_text(text)
            patched.append(path.name)
    return patched


def _mod_hash(mod_files: list[Path], nrnivmodl: str) -> str:
    digest = hashlib.sha256()
    # the compiler driver is part of the key: mechanisms compiled for one
    # NEURON version do not load in another
    stat = Path(nrnivmodl).stat()
    digest.update(f"{Path(nrnivmodl).resolve()}|{stat.st_mtime_ns}|{sys.platform}".encode())
    for path in sorted(mod_files, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _compile(mod_files: list[Path], work: Path, cache, timeout, env,
             engine: str = "neuron") -> tuple[Path, str, float]:
    """Compile the NMODL files (or find them compiled); the folder to load them from."""
    nrnivmodl = _find_nrnivmodl()
    if cache is False:
        log, status, seconds = _run_step(engine, "nrnivmodl", [nrnivmodl], work, timeout, env)
        _check_compiled(work, status, log, work, engine)
        return work, log, seconds
    root = neuron_mechanism_cache() if cache is True else Path(cache)
    target = root / _mod_hash(mod_files, nrnivmodl)
    if _mechanism_library(target) is not None:
        return target, f"(compiled mechanisms reused from {target})\n", 0.0
    root.mkdir(parents=True, exist_ok=True)
    # compile in a private folder, then move it into place in one step, so
    # that a parallel run never sees a half-built cache entry
    building = Path(tempfile.mkdtemp(prefix="build-", dir=root))
    try:
        for path in mod_files:
            shutil.copy2(path, building / path.name)
        log, status, seconds = _run_step(engine, "nrnivmodl", [nrnivmodl], building,
                                         timeout, env)
        _check_compiled(building, status, log, work, engine)
        try:
            building.rename(target)
        except OSError:  # another run was faster; its result is as good
            pass
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)
    return target, log, seconds


def _check_compiled(folder: Path, status: int, log: str, work: Path, engine: str = "neuron"):
    if status != 0 or _mechanism_library(folder) is None:
        raise EngineError(engine, "nrnivmodl",
                          f"nrnivmodl could not compile the NMODL files in {work} "
                          f"(exit status {status}):\n{_relevant(log, _NRNIVMODL_ERRORS)}", log)


# Runs the generated script after loading the mechanisms from where they
# were compiled (NEURON would otherwise only look in the current folder).
_RUNNER = """\
import runpy, sys
import neuron
if not neuron.load_mechanisms(sys.argv[1]):
    sys.exit('NEURON could not load the compiled mechanisms in ' + sys.argv[1])
sys.argv = [sys.argv[2]]
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def simulate_neuron(lems_file: Path, java: str, jar: str, timeout, work_folder,
                     cache, linear_synapses: bool = False,
                     compact_script: bool = True) -> EngineRun:
    """
    Simulate a LEMS file in NEURON (the ``'neuron'`` engine of `.engines.simulate`).

    Parameters
    ----------
    lems_file : Path
        The LEMS file (resolved; it exists).
    java, jar : str
        The Java runtime and the jNeuroML jar.
    timeout : float or None
        Seconds each step may take.
    work_folder : str or Path or None
        The folder for the generated code (default ``LEMS_FILE_neuron``).
    cache : bool or str or Path
        The cache of compiled mechanisms (see `.engines.simulate`).
    linear_synapses : bool, optional
        Simulate the linear synapses of one type on one cell as one
        (`.neuron_code.share_synapses`).
    compact_script : bool, optional
        Write the script's connections as loops over tables
        (`.neuron_code.compact_connections`; default). Exact.

    Returns
    -------
    EngineRun

    Raises
    ------
    EngineError
        If a step fails.

    Examples
    --------
    >>> from brian2tools.nmlexport.engines import simulate
    >>> run = simulate('LEMS_model.xml', 'neuron')  # doctest: +SKIP
    """
    env = _environment()
    folder = lems_file.parent
    work = _fresh_work_folder(lems_file, work_folder, "neuron")
    script = work / f"{lems_file.stem}_nrn.py"
    script.unlink(missing_ok=True)
    steps = {}
    # jNeuroML writes the code of the cells and synapses; the connections
    # come from the export's own numbers where it can (.neuron_connections)
    lems_text = lems_file.read_text()
    projections = read_projections(lems_text) if compact_script else None
    jnml_input = lems_file
    if projections:
        jnml_input = stripped_path(lems_file)
        write_text_atomic(jnml_input, strip_connections(lems_text, projections))
    try:
        log, status, steps["jnml"] = _run_step(
            "neuron", "jnml", [java, "-jar", jar, jnml_input.name, "-neuron", "-nogui",
                               "-outputdir", work], folder, timeout, env)
    finally:
        if jnml_input != lems_file:
            jnml_input.unlink(missing_ok=True)
    generated = work / f"{jnml_input.stem}_nrn.py"
    if generated != script and generated.is_file():
        generated.replace(script)
    full_log = log
    if status != 0 or _JNML_ERRORS.search(log) or not script.is_file():
        raise EngineError("neuron", "jnml",
                          f"jNeuroML could not write NEURON code for {lems_file} "
                          f"(exit status {status}):\n{_relevant(log, _JNML_ERRORS)}", log)
    mod_files = sorted(work.glob("*.mod"))
    patched = _patch_mod_files(mod_files)
    if patched:
        full_log += f"(generated mechanisms corrected: {', '.join(patched)})\n"
    shared = share_mechanisms(mod_files, script)
    if len(shared) < len(mod_files):
        full_log += (f"({len(mod_files)} mechanisms of the same types compiled as "
                     f"{len(shared)})\n")
    mod_files = shared
    expanded = None
    if projections:
        try:
            script_text, expanded = expand_connections(script.read_text(), projections,
                                                linear_synapses)
        except ValueError as error:
            raise EngineError("neuron", "jnml", str(error), full_log) from error
        script.write_text(script_text)
        full_log += (f"({sum(len(p.i) for p in projections.values())} connections of "
                     f"{len(projections)} projections read from the export)\n")
    elif linear_synapses:
        merged = share_synapses(script)
        if merged:
            full_log += f"({merged} synapses merged into the synapse of their cell)\n"
    if compact_script:
        compacted = compact_connections(script, expanded)
        if compacted:
            full_log += f"({compacted} connection lines of the script written as loops)\n"
    if exact_capacitance(script):
        full_log += "(abstract cells' sections given exactly 1 nF)\n"
    # after the connections: the script is small by now
    initial = read_initial_values(lems_file, lems_text)
    del lems_text  # a large network's file: not kept through the simulation
    if initial:
        try:
            count = set_in_script(script, initial)
        except ValueError as error:
            raise EngineError("neuron", "jnml", str(error), full_log) from error
        full_log += f"({count} per-cell initial values set from the populations' properties)\n"
    try:
        gated = gate_synapses(mod_files, script)
    except ValueError as error:
        raise EngineError("neuron", "jnml", str(error), full_log) from error
    if gated:
        full_log += (f"(synaptic currents gated by the cell's refractoriness: "
                     f"{', '.join(gated)})\n")
    if mod_files:
        mechanisms, log, steps["nrnivmodl"] = _compile(mod_files, work, cache, timeout, env)
        full_log += log
    else:
        mechanisms = None
    # The script writes the recordings relative to its current folder; the
    # sub-folders they name must exist there.
    names = _recording_names(lems_file)
    for name in names:
        (work / name).parent.mkdir(parents=True, exist_ok=True)
    before = _clear_old([work / name for name in names])
    # NEURON loads the mechanisms compiled in the current folder by itself
    command = [sys.executable, "-c", _RUNNER, mechanisms, script.name] \
        if mechanisms is not None and mechanisms != work else [sys.executable, script.name]
    log, status, steps["simulation"] = _run_step("neuron", "simulation", command, work,
                                                 timeout, env)
    full_log += log
    errors = [line for line in log.splitlines()
              if _SIMULATION_ERRORS.search(line) and not _HARMLESS.search(line)]
    if status != 0 or errors or "Done" not in log.split():
        raise EngineError("neuron", "simulation",
                          f"NEURON could not simulate {script} (exit status {status}):\n"
                          f"{_relevant(log, _SIMULATION_ERRORS)}", log)
    _deliver("neuron", work, folder, names, before, log)
    return EngineRun("neuron", lems_file, folder, log=full_log, step_times=steps,
                     work_folder=work)
