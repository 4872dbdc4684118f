"""
The NetPyNE engine of :func:`brian2tools.nmlexport.engines.simulate`, with MPI.

NetPyNE builds a NEURON network from a NeuroML file and can distribute its
cells over several MPI processes (ranks), on one machine or on many; it is
the way to simulate an exported model past one machine's memory and cores.
The steps:

1. ``jnml LEMS_FILE -netpyne -nogui -outputdir WORK`` writes the NMODL files
   (the same as for the NEURON engine), the network as NeuroML
   (``NAME.net.nml``) and a Python script ``NAME_netpyne.py`` that imports
   that network into NetPyNE, simulates it and writes the recordings in the
   LEMS formats (``.dat`` columns in SI units, ``.spikes`` as ``time index``
   lines in seconds), relative to its current folder.
2. The NMODL files are patched and compiled like the NEURON engine's (same
   cache).
3. The script runs with ``mpiexec -n RANKS python`` (plain ``python`` for
   one rank), through a small runner that loads the compiled mechanisms,
   initialises NEURON's MPI and makes the cell types of the export known to
   NetPyNE's NeuroML importer (see below).

Decisions:

* NetPyNE's NeuroML importer reads the network with libNeuroML, which drops
  the elements of cell types defined in the file itself (the exported
  ``ComponentType``\\s): every population's component is then missing and
  the import stops (``'NoneType' object has no attribute 'id'`` in
  ``handle_population``). The runner gives libNeuroML's document a fallback
  for the components of populations: an abstract cell
  (:class:`neuroml.BaseCell`) with the component's ``id`` and the
  attributes the importer reads (``thresh``, the spike threshold; ``C``,
  the capacitance). The parameter values need not be passed: jNeuroML
  writes them as the defaults of each component's own NMODL file.
* A cell type without a capacitance (``baseIaf``) gets ``C = 1 nF``: its
  NMODL code turns the rate of ``v`` into a current for a 1 nF section, and
  NetPyNE's own default (a specific capacitance of 318.319 uF/cm2, rounded)
  would make ``v`` change 3e-5 (relative) too slowly; the NEURON engine
  gives its sections exactly 1 nF too (jNeuroML's script rounds to 318.31).
* The runner runs with the machine's ``mpiexec`` (Open MPI or MPICH). For
  Open MPI run by root (containers, CI), the two variables that allow it are
  set; ``--oversubscribe`` lets more ranks run than there are cores.
* The generated script asks NetPyNE to record every variable from the
  section (``{'sec': 'soma', 'loc': 0.5, 'var': 'w'}``), where only ``v``
  is: NetPyNE then records nothing and the script fails while saving
  (``Exception saving results of NetPyNE simulation: 'cell_0'``). The
  engine adds the cell's point process (``'pointp': COMPONENT``) to the
  recordings of all other variables.
* NetPyNE records the samples of ``[0, duration)``: its ``.dat`` files have
  no row for the end time, which NEURON's and jNeuroML's have (the script
  cannot write what NetPyNE did not record; the other rows are the same
  times).
* Only rank 0 writes the recordings (the generated script gathers the
  spikes and traces of all ranks first); a failure on any rank fails the
  run.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from brian2.utils.logger import get_logger

from brian2tools.baseexport import write_text_atomic
from brian2tools.nmlexport import engines, neuron_engine, neuron_gates, per_cell_initial

__all__ = ["netpyne_unavailable", "find_mpiexec", "runner_command", "simulate_netpyne"]

logger = get_logger(__name__)

_INSTALL_NETPYNE = ("Install NetPyNE and mpi4py ('pip install netpyne mpi4py') into the Python "
                    "environment that runs brian2tools, and an MPI implementation with its "
                    "'mpiexec' (e.g. 'apt-get install openmpi-bin libopenmpi-dev', "
                    "'brew install open-mpi', or MS-MPI on Windows).")

# Lines of the NetPyNE run that mean it failed (its script catches the
# exceptions of saving the results and exits with status 0).
NETPYNE_ERRORS = re.compile(
    r"Traceback|Error|Exception|not a public member|NEURON: |near line|segmentation|"
    r"MPI_ABORT|mpiexec noticed|prterun|Giving up|Killed", re.IGNORECASE)
# The generated script prints this when the simulation (of all ranks) is over.
NETPYNE_DONE = "Finished NetPyNE simulation"


def find_mpiexec() -> str | None:
    """
    The ``mpiexec`` to start several ranks with, if there is one.

    Returns
    -------
    str or None
        The path of ``mpiexec`` (next to this Python first, then on the
        ``PATH``), or None.

    Examples
    --------
    >>> path = find_mpiexec()
    >>> path is None or 'mpi' in path
    True
    """
    for name in ("mpiexec", "mpirun"):
        beside = Path(sys.executable).parent / name
        if beside.is_file():
            return str(beside)
    for name in ("mpiexec", "mpirun"):
        found = shutil.which(name)
        if found:
            return found
    return None


def netpyne_unavailable() -> str | None:
    """
    Whether NetPyNE and MPI can run here.

    NEURON itself is checked by
    :func:`~brian2tools.nmlexport.engines.engine_available`.

    Returns
    -------
    str or None
        None if everything is installed, else what is missing and how to
        install it.

    Examples
    --------
    >>> reason = netpyne_unavailable()
    >>> reason is None or 'install' in reason.lower()
    True
    """
    import importlib.util
    missing = [name for name in ("netpyne", "mpi4py", "neuroml")
               if importlib.util.find_spec(name) is None]
    if missing:
        return f"{', '.join(missing)} not installed. {_INSTALL_NETPYNE}"
    if find_mpiexec() is None:
        return f"No 'mpiexec' was found. {_INSTALL_NETPYNE}"
    return None


# Runs the generated script in every rank: NEURON's MPI first, then the
# compiled mechanisms (NEURON only looks in the current folder otherwise),
# then the fallback for cell types libNeuroML does not know (see the module
# docstring). argv: mechanisms folder ('' if none), network file, script.
_RUNNER = """\
import runpy, sys
import xml.etree.ElementTree as ET
from mpi4py import MPI  # before NEURON, so that NEURON uses this MPI
from neuron import h
import neuron
h.nrnmpi_init()
if sys.argv[1] and not neuron.load_mechanisms(sys.argv[1]):
    sys.exit('NEURON could not load the compiled mechanisms in ' + sys.argv[1])
import neuroml
from neuroml.nml.generatedssupersuper import GeneratedsSuperSuper

_root = ET.parse(sys.argv[2]).getroot()
_cells = {element.get('component') for element in _root.iter()
          if element.tag.rpartition('}')[2] == 'population'}
_components = {element.get('id'): element.attrib for element in _root
               if element.get('id') in _cells}

_get_by_id = GeneratedsSuperSuper.get_by_id

def get_by_id(self, id_):
    found = _get_by_id(self, id_)
    if found is None and isinstance(self, neuroml.NeuroMLDocument) and id_ in _components:
        attributes = _components[id_]
        found = neuroml.BaseCell(id=id_)
        if 'thresh' in attributes:
            found.thresh = attributes['thresh']
        # without C, the importer rounds the 1 nF the NMODL code assumes
        found.C = attributes.get('C', '1 nF')
    return found

GeneratedsSuperSuper.get_by_id = get_by_id

if sys.argv[4] or sys.argv[5]:
    # synapses gated by their cell's refractoriness (neuron_gates); per-cell
    # initial values (per_cell_initial): set before NEURON initialises
    import json
    from netpyne import sim
    _kinds = sys.argv[4].split(',') if sys.argv[4] else []
    _initial = {}
    if sys.argv[5]:
        with open(sys.argv[5]) as _file:
            _initial = json.load(_file)
    _run_simulation = sim.runSim

    def _prepared_run(*args, **kwargs):
        if _kinds:
            _b2t_gate_synapses(h, _kinds)
        if _initial:
            _b2t_set_initial(sim, _initial)
        return _run_simulation(*args, **kwargs)

    sim.runSim = _prepared_run
sys.argv = [sys.argv[3], '-nogui']
runpy.run_path(sys.argv[0], run_name='__main__')
"""


_RUNNER = _RUNNER.replace("_get_by_id = GeneratedsSuperSuper.get_by_id",
                          neuron_gates.GATE_FUNCTION + per_cell_initial.NETPYNE_FUNCTION
                          + "\n_get_by_id = GeneratedsSuperSuper.get_by_id")


def runner_command(script: Path, network: Path, mechanisms: Path | None, ranks: int,
                   env: dict, gated: list[str] = (), initial: Path | None = None) -> list:
    """
    The command that runs a generated NetPyNE script on ``ranks`` MPI ranks.

    Parameters
    ----------
    script : Path
        The script jNeuroML wrote (``NAME_netpyne.py``).
    network : Path
        The NeuroML network file the script imports (``NAME.net.nml``).
    mechanisms : Path or None
        The folder of the compiled mechanisms (None: no NMODL files).
    ranks : int
        The number of MPI ranks; 1 runs this Python without ``mpiexec``.
    env : dict
        The environment of the run; the variables Open MPI needs to run as
        root (and on more ranks than cores) are added to it.
    gated : list of str, optional
        The synapse mechanisms to connect to their cell's refractoriness
        (:mod:`.neuron_gates`) before the simulation starts.
    initial : Path, optional
        A JSON file of per-cell initial values in NEURON's units
        (:mod:`.per_cell_initial`), set before the simulation starts.

    Returns
    -------
    list
        The command.

    Raises
    ------
    ValueError
        If ``ranks`` is not a positive integer.

    Examples
    --------
    >>> env = {}
    >>> command = runner_command(Path('m_netpyne.py'), Path('m.net.nml'), None, 1, env)
    >>> command[-4:]
    ['m.net.nml', 'm_netpyne.py', '', '']
    """
    if isinstance(ranks, bool) or not isinstance(ranks, int) or ranks < 1:
        raise ValueError(f"The number of MPI ranks must be a positive integer, not {ranks!r}.")
    python = [sys.executable, "-c", _RUNNER, str(mechanisms or ""), network.name, script.name,
              ",".join(gated), str(initial or "")]
    if ranks == 1:
        return python
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise ValueError(f"No 'mpiexec' was found. {_INSTALL_NETPYNE}")
    # Open MPI refuses root (containers, CI) unless both are set; harmless
    # for other MPIs. Oversubscription: more ranks than cores still run.
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    env.setdefault("PRTE_MCA_rmaps_default_mapping_policy", ":oversubscribe")
    return [mpiexec, "-n", str(ranks), *python]


# libNeuroML's complaints about the ids the runner then supplies, NetPyNE's
# note that it saves no files of its own (the script writes the recordings)
_HARMLESS = re.compile(r"WARNING - (Id '.*' not found|All ids)|data won't be saved|"
                       r"no DISPLAY environment variable|No graphics will be displayed")


_TRACE = re.compile(r"(recordTraces\[[^\]]+\] = \{.*?)'var':'(\w+)'(.*'pop':'([^']+)')")


def _patch_script(script: Path, network: Path) -> int:
    """Record a cell mechanism's variables (all but ``v``) from its point process."""
    cells = {element.get("id"): element.get("component")
             for element in ET.parse(network).getroot().iter()
             if element.tag.rpartition("}")[2] == "population"}

    def add_point_process(match):
        if match.group(2) == "v" or "'pointp'" in match.group(0) or \
                match.group(4) not in cells:
            return match.group(0)
        return (f"{match.group(1)}'pointp':'{cells[match.group(4)]}','var':'{match.group(2)}'"
                f"{match.group(3)}")

    text = script.read_text()
    patched, count = _TRACE.subn(add_point_process, text)
    if patched != text:
        write_text_atomic(script, patched)
    return sum(1 for line in patched.splitlines() if "'pointp':" in line)


def _network_file(script: Path, work: Path) -> Path | None:
    # the script names the network file it imports
    found = re.search(r"nml2_file_name\s*=\s*'([^']+)'", script.read_text())
    if found and (work / found.group(1)).is_file():
        return work / found.group(1)
    networks = sorted(work.glob("*.net.nml"))
    return networks[0] if len(networks) == 1 else None


def simulate_netpyne(lems_file: Path, java: str, jar: str, timeout: float | None,
                     work_folder, cache, ranks: int) -> engines.EngineRun:
    """
    Simulate a LEMS file with NetPyNE on ``ranks`` MPI ranks.

    Called by :func:`brian2tools.nmlexport.engines.simulate` (engine
    ``'netpyne'``), which checks the installation and the recordings'
    folders first and that the recordings were written afterwards.

    Parameters
    ----------
    lems_file : Path
        The LEMS file (absolute).
    java : str
        The Java executable.
    jar : str
        The jNeuroML jar.
    timeout : float or None
        Seconds each step may take.
    work_folder : str or os.PathLike or None
        The folder for the generated files (default ``LEMS_FILE_netpyne``
        next to the LEMS file).
    cache : bool or str or os.PathLike
        The cache of compiled mechanisms (as for the NEURON engine).
    ranks : int
        The number of MPI ranks.

    Returns
    -------
    EngineRun
        With the recordings moved to where the LEMS file says.

    Raises
    ------
    EngineError
        If a step fails: ``'jnml'``, ``'nrnivmodl'``, ``'simulation'`` (on
        any rank), ``'recordings'`` or ``'timeout'``.

    Examples
    --------
    >>> from brian2tools.nmlexport.engines import simulate
    >>> run = simulate('LEMS_model.xml', 'netpyne', ranks=2)  # doctest: +SKIP
    >>> run.ranks  # doctest: +SKIP
    2
    """
    env = engines._environment()
    folder = lems_file.parent
    work = engines._fresh_work_folder(lems_file, work_folder, "netpyne")
    for old in [*work.glob("*_netpyne.py"), *work.glob("*.net.nml")]:
        old.unlink(missing_ok=True)
    steps = {}
    log, status, steps["jnml"] = engines._run_step(
        "netpyne", "jnml", [java, "-jar", jar, lems_file.name, "-netpyne", "-nogui",
                            "-outputdir", work], folder, timeout, env)
    full_log = log
    scripts = sorted(work.glob("*_netpyne.py"))
    network = _network_file(scripts[0], work) if len(scripts) == 1 else None
    if status != 0 or engines._JNML_ERRORS.search(log) or network is None:
        raise engines.EngineError(
            "netpyne", "jnml", f"jNeuroML could not write NetPyNE code for {lems_file} "
            f"(exit status {status}):\n{engines._relevant(log, engines._JNML_ERRORS)}", log)
    script = scripts[0]
    if _patch_script(script, network):
        full_log += f"(variables of the cells' mechanisms recorded from them in {script.name})\n"
    mod_files = sorted(work.glob("*.mod"))
    patched = neuron_engine._patch_mod_files(mod_files)
    if patched:
        full_log += f"(generated NMODL files patched: {', '.join(patched)})\n"
    gated = neuron_gates.gate_mechanisms(mod_files)
    initial = per_cell_initial.read_initial_values(lems_file)
    initial_file = None
    if initial:
        try:
            initial = per_cell_initial.in_neuron_units(initial, mod_files)
        except ValueError as error:
            raise engines.EngineError("netpyne", "jnml", str(error), full_log) from error
        initial_file = work / "brian2tools_initial_values.json"
        write_text_atomic(initial_file, json.dumps(initial))
    mechanisms = None
    if mod_files:
        mechanisms, log, steps["nrnivmodl"] = neuron_engine._compile(mod_files, work, cache, timeout,
                                                               env, engine="netpyne")
        full_log += log
        if mechanisms == work:  # NEURON loads those of the current folder by itself
            mechanisms = None
    names = engines._recording_names(lems_file)
    for name in names:  # the script writes them relative to the work folder
        (work / name).parent.mkdir(parents=True, exist_ok=True)
    before = engines._clear_old([work / name for name in names])
    command = runner_command(script, network, mechanisms, ranks, env, gated, initial_file)
    log, status, steps["simulation"] = engines._run_step("netpyne", "simulation", command,
                                                         work, timeout, env)
    full_log += log
    errors = [line for line in log.splitlines()
              if NETPYNE_ERRORS.search(line) and not _HARMLESS.search(line)]
    if status != 0 or errors or NETPYNE_DONE not in log:
        relevant = "\n".join(errors[:40] or log.strip().splitlines()[-40:])
        if "mindelay" in log:
            relevant += ("\n(Between MPI ranks, NEURON needs every synaptic delay to be at "
                         "least one time step; synapses without a delay in Brian are exported "
                         "with half a step. Give the synapses a delay, or run on one rank.)")
        raise engines.EngineError(
            "netpyne", "simulation", f"NetPyNE could not simulate {script} on {ranks} "
            f"rank(s) (exit status {status}):\n{relevant}", log)
    engines._deliver("netpyne", work, folder, names, before, log)
    return engines.EngineRun("netpyne", lems_file, folder, log=full_log, step_times=steps,
                             work_folder=work, ranks=ranks)
