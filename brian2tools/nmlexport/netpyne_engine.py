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
  for such ids: an abstract cell (:class:`neuroml.BaseCell`) with the
  component's ``id`` and the attributes the importer reads (``thresh``, the
  spike threshold; ``C``, the capacitance). The parameter values need not be
  passed: jNeuroML writes them as the defaults of each component's own
  NMODL file.
* The runner runs with the machine's ``mpiexec`` (Open MPI or MPICH). For
  Open MPI run by root (containers, CI), the two variables that allow it are
  set; ``--oversubscribe`` lets more ranks run than there are cores.
* Only rank 0 writes the recordings (the generated script gathers the
  spikes and traces of all ranks first); a failure on any rank fails the
  run.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from brian2.utils.logger import get_logger

__all__ = ["netpyne_unavailable", "find_mpiexec", "runner_command"]

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
    >>> path is None or 'mpiexec' in path
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


def netpyne_unavailable(ranks: int = 1) -> str | None:
    """
    Whether NetPyNE (and MPI, for several ranks) can run here.

    Parameters
    ----------
    ranks : int, optional
        The number of MPI ranks the run needs (default 1; MPI is checked
        for any number, as :func:`~brian2tools.nmlexport.engines.engine_available`
        promises a usable MPI setup).

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

_components = {}
for element in ET.parse(sys.argv[2]).getroot():
    tag = element.tag.rpartition('}')[2]
    if element.get('id') and tag not in ('network', 'ComponentType', 'include'):
        _components[element.get('id')] = element.attrib

_get_by_id = GeneratedsSuperSuper.get_by_id

def get_by_id(self, id_):
    found = _get_by_id(self, id_)
    if found is None and isinstance(self, neuroml.NeuroMLDocument) and id_ in _components:
        attributes = _components[id_]
        found = neuroml.BaseCell(id=id_)
        for name in ('thresh', 'C'):
            if name in attributes:
                setattr(found, name, attributes[name])
    return found

GeneratedsSuperSuper.get_by_id = get_by_id
sys.argv = [sys.argv[3], '-nogui']
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def runner_command(script: Path, network: Path, mechanisms: Path | None, ranks: int,
                   env: dict) -> list:
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
    >>> command[-2:]
    ['m.net.nml', 'm_netpyne.py']
    """
    if isinstance(ranks, bool) or not isinstance(ranks, int) or ranks < 1:
        raise ValueError(f"The number of MPI ranks must be a positive integer, not {ranks!r}.")
    python = [sys.executable, "-c", _RUNNER, str(mechanisms or ""), network.name, script.name]
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
