"""
The command line of the NeuroML exporter.

``python -m brian2tools.nmlexport SCRIPT.py [-o MODEL.xml] [--run] [--engine
jneuroml|neuron|netpyne] [--ranks N]`` (installed as the command ``brian2tools-neuroml``) exports an
unchanged Brian script: it selects the ``'neuroml2'`` device, runs the script
(as ``python SCRIPT.py`` would: its folder on ``sys.path``, ``__name__ ==
'__main__'``, a non-interactive matplotlib backend), and each ``run()`` of the
script writes the model instead of simulating. With ``--run`` (or
``--engine``), each ``run()`` also simulates the model in the engine
(``simulate=`` of the device) and fills the script's monitors, so the rest
of the script runs as with Brian; the recording files are listed at the end.

Decisions (see :doc:`/nmlexport_network`):

* ``set_device(...)`` calls in the script are ignored (with a note): the
  export device stays selected, whatever device the script asks for.
* Statements after ``run()`` that need simulation results (plots of
  monitors, ...) fail under an export device; the error is reported as a
  note, and the export stands if at least one ``run()`` was exported.
* jNeuroML is the jar shipped with pyNeuroML, or ``--jar``; a missing Java or
  jNeuroML is reported with how to install it.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["main", "export_script", "find_jneuroml", "run_jneuroml", "ExportResult",
           "JNeuroMLNotFound"]

#: The environment variable naming a jNeuroML jar to use instead of pyNeuroML's.
JAR_VARIABLE = "BRIAN2TOOLS_JNEUROML_JAR"

# exit codes
_EXPORT_FAILED, _USAGE, _SIMULATION_FAILED = 1, 2, 3

_INSTALL_JAVA = (
    "Install a Java runtime (version 11 or later), e.g. 'sudo apt install default-jre' on "
    "Debian/Ubuntu, 'brew install openjdk' on macOS, or from https://adoptium.net, and make "
    "sure the 'java' command is on the PATH."
)
_INSTALL_JNEUROML = (
    "Install pyNeuroML, which ships the jNeuroML jar ('pip install pyneuroml'), or download "
    "jNeuroML from https://github.com/NeuroML/jNeuroML/releases and pass its jar with --jar."
)


class JNeuroMLNotFound(RuntimeError):
    """Java or jNeuroML is missing; the message says how to install it."""


@dataclass
class ExportResult:
    """
    What exporting a script produced.

    Attributes
    ----------
    model_file : Path
        The written model.
    runs : int
        Number of ``run()`` calls exported.
    notes : list of str
        What the user should know (ignored ``set_device`` calls, an error
        after the export, ...).
    """

    model_file: Path
    runs: int
    notes: list = field(default_factory=list)


def export_script(script: str | os.PathLike, model_file: str | os.PathLike | None = None,
                  script_args: Sequence[str] = (), synapses: str = "components",
                  simulate: str | None = None, ranks: int = 1) -> ExportResult:
    """
    Export a Brian script to NeuroML2/LEMS without changing it.

    Parameters
    ----------
    script : str or os.PathLike
        The Brian script.
    model_file : str or os.PathLike, optional
        The model file to write (default: the script's name with ``.xml``,
        in the current folder).
    script_args : sequence of str, optional
        Arguments for the script (its ``sys.argv[1:]``).
    synapses : {'components', 'events'}, optional
        How synapses that add to a linear neuron variable are written (the
        ``synapses`` option of the ``'neuroml2'`` device).
    simulate : {None, 'jneuroml', 'neuron'}, optional
        Simulate each export in this engine, so that the script's monitors
        hold the engine's recordings and the rest of the script (plots, ...)
        runs as with Brian (the ``simulate`` option of the device).
    ranks : int, optional
        MPI processes of a NetPyNE simulation.

    Returns
    -------
    ExportResult

    Raises
    ------
    FileNotFoundError
        If the script does not exist.
    UnsupportedFeatureError
        If the model cannot be exported (raised by the script's ``run()``).
    RuntimeError
        If the script calls no ``run()``, or fails before its first one.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> script = os.path.join(folder, 'decay.py')
    >>> with open(script, 'w') as f:
    ...     _ = f.write("from brian2 import *\\n"
    ...                 "G = NeuronGroup(1, 'dv/dt = -v/(10*ms) : 1')\\n"
    ...                 "run(1*ms)\\n")
    >>> result = export_script(script, os.path.join(folder, 'decay.xml'))
    >>> result.runs, result.model_file.name
    (1, 'decay.xml')
    """
    from brian2tools.baseexport.scriptrunner import run_script

    script = Path(script)
    if not script.is_file():
        raise FileNotFoundError(f"No Brian script at '{script}'.")
    model_file = Path(model_file) if model_file else Path.cwd() / (script.stem + ".xml")
    if not model_file.suffix:
        model_file = model_file.with_suffix(".xml")
    model_file = model_file.resolve()
    model_file.parent.mkdir(parents=True, exist_ok=True)

    options = {"filename": str(model_file), "synapses": synapses}
    if simulate is not None:
        options["simulate"] = simulate
    if ranks != 1:
        options["ranks"] = ranks
    outcome = run_script(script, "neuroml2", options, script_args, target=model_file)
    runs, notes = outcome.runs, outcome.notes
    return ExportResult(model_file, runs, notes)


def find_jneuroml(jar: str | os.PathLike | None = None) -> tuple[str, str]:
    """
    The Java executable and the jNeuroML jar to simulate models with.

    Parameters
    ----------
    jar : str or os.PathLike, optional
        A jNeuroML jar to use instead of pyNeuroML's (default: the one named
        by the environment variable ``BRIAN2TOOLS_JNEUROML_JAR``, if set).

    Returns
    -------
    (str, str)
        Paths of ``java`` and of the jar.

    Raises
    ------
    JNeuroMLNotFound
        If Java or jNeuroML is missing, saying how to install them.

    Examples
    --------
    >>> try:
    ...     java, jar = find_jneuroml()
    ... except JNeuroMLNotFound as error:  # the message says how to install them
    ...     java, jar = 'java', 'jNeuroML-0.14.0-jar-with-dependencies.jar'
    >>> jar.endswith('-jar-with-dependencies.jar')
    True
    """
    java = shutil.which("java")
    if java is None:
        raise JNeuroMLNotFound(f"Java was not found, and jNeuroML needs it. {_INSTALL_JAVA}")
    if jar is None:
        jar = os.environ.get(JAR_VARIABLE) or None
    if jar is not None:
        if not Path(jar).is_file():
            raise JNeuroMLNotFound(f"No jNeuroML jar at '{jar}'. {_INSTALL_JNEUROML}")
        return java, str(jar)
    spec = importlib.util.find_spec("pyneuroml")
    for location in (spec.submodule_search_locations or []) if spec else []:
        jars = sorted(glob.glob(os.path.join(location, "lib",
                                             "jNeuroML-*-jar-with-dependencies.jar")))
        if jars:
            return java, jars[-1]
    raise JNeuroMLNotFound(f"jNeuroML was not found. {_INSTALL_JNEUROML}")


def _recording_files(model_file: Path) -> list[Path]:
    root = ET.parse(model_file).getroot()
    names = [element.get("fileName") for tag in ("OutputFile", "EventOutputFile")
             for element in root.iter(tag)]
    return [model_file.parent / name for name in names if name]


def run_jneuroml(model_file: str | os.PathLike, jar: str | os.PathLike | None = None,
                 timeout: float | None = None) -> tuple[str, list[Path]]:
    """
    Simulate a LEMS model with jNeuroML, in the model's folder.

    Parameters
    ----------
    model_file : str or os.PathLike
    jar : str or os.PathLike, optional
        A jNeuroML jar to use instead of pyNeuroML's.
    timeout : float, optional
        Seconds to wait for jNeuroML.

    Returns
    -------
    (str, list of Path)
        jNeuroML's output, and the recording files the model names.

    Raises
    ------
    JNeuroMLNotFound
        If Java or jNeuroML is missing.
    RuntimeError
        If jNeuroML fails or reports a SEVERE problem.

    Examples
    --------
    >>> log, recordings = run_jneuroml('model.xml')  # doctest: +SKIP
    >>> [path.name for path in recordings]  # doctest: +SKIP
    ['recording_statemonitor.dat', 'recording_spikemonitor.spikes']
    """
    java, jar = find_jneuroml(jar)
    model_file = Path(model_file).resolve()
    completed = subprocess.run([java, "-jar", jar, model_file.name, "-nogui"],
                               cwd=model_file.parent, capture_output=True, text=True,
                               timeout=timeout, check=False)
    log = completed.stdout + completed.stderr
    severe = [line for line in log.splitlines() if "SEVERE" in line]
    if completed.returncode != 0 or severe or "Finished reading, building, running" not in log:
        details = "\n".join(severe) or log[-2000:]
        raise RuntimeError(f"jNeuroML could not simulate {model_file} "
                           f"(exit status {completed.returncode}):\n{details}")
    return log, _recording_files(model_file)


def _parser() -> argparse.ArgumentParser:
    from brian2tools import __version__

    # the installed command, or python -m
    command = os.path.basename(sys.argv[0]) if sys.argv else ""
    parser = argparse.ArgumentParser(
        prog=command if command.startswith("brian2tools-") else "python -m brian2tools.nmlexport",
        description="Export a Brian 2 script to NeuroML2/LEMS (no change to the script "
                    "needed) and optionally simulate it with jNeuroML.")
    parser.add_argument("script", help="the Brian script to export")
    parser.add_argument("--version", action="version", version=f"brian2tools {__version__}",
                        help="print the version of brian2tools and exit")
    parser.add_argument("-o", "--output", metavar="MODEL.xml",
                        help="the model file to write (default: the script's name with .xml, "
                             "in the current folder)")
    parser.add_argument("--run", action="store_true",
                        help="simulate the exported model (with jNeuroML unless --engine says "
                             "otherwise); the script's monitors then hold the recordings")
    parser.add_argument("--engine", choices=("jneuroml", "neuron", "netpyne"), default=None,
                        help="the engine of --run (implies it): jNeuroML's LEMS interpreter "
                             "(default), NEURON or NetPyNE (the portable form of the export)")
    parser.add_argument("--ranks", type=int, default=1, metavar="N",
                        help="MPI processes of a NetPyNE simulation (default 1)")
    parser.add_argument("--jar", metavar="JAR",
                        help="the jNeuroML jar to use (default: the one of pyNeuroML)")
    parser.add_argument("--synapses", choices=("components", "events"), default="components",
                        help="synapses that add to a linear neuron variable become NeuroML "
                             "synapse components in projections (default) or events on the "
                             "receiving cells (simulates faster in jNeuroML)")
    parser.epilog = ("Other arguments are passed on to the script (after '--' if they could "
                     "be taken for the options above).")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """
    Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 1 if the export failed, 2 for wrong
        arguments, 3 if the simulation could not run.

    Examples
    --------
    >>> main(['no_such_script.py'])  # says on stderr that there is no such script
    2
    """
    from brian2tools.baseexport import SimulationError, UnsupportedFeatureError

    arguments, script_args = _parser().parse_known_args(argv)
    if script_args[:1] == ["--"]:
        script_args = script_args[1:]
    engine = arguments.engine or ("jneuroml" if arguments.run else None)
    if arguments.jar:
        os.environ[JAR_VARIABLE] = os.fspath(arguments.jar)
    if engine is not None:  # fail early, before a long export
        try:
            find_jneuroml(arguments.jar)
        except JNeuroMLNotFound as error:
            print(f"error: {error}", file=sys.stderr)
            return _SIMULATION_FAILED
    if engine is not None:
        print(f"Exporting and simulating with {engine} ...", flush=True)
    try:
        result = export_script(arguments.script, arguments.output, script_args,
                               synapses=arguments.synapses, simulate=engine,
                               ranks=arguments.ranks)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return _USAGE
    except (UnsupportedFeatureError, ValueError) as error:
        print(f"error: the script could not be exported: {error}", file=sys.stderr)
        return _EXPORT_FAILED
    except (JNeuroMLNotFound, subprocess.TimeoutExpired) as error:
        print(f"error: {error}", file=sys.stderr)
        return _SIMULATION_FAILED
    except SimulationError as error:
        print(f"error: the export could not be simulated: {error}", file=sys.stderr)
        return _SIMULATION_FAILED
    except RuntimeError as error:  # a script that exports nothing
        print(f"error: the script could not be exported: {error}", file=sys.stderr)
        return _EXPORT_FAILED
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    model_files = [result.model_file]
    if not result.model_file.exists():  # store()/restore(): one file per trial (.trials)
        model_files = sorted(result.model_file.parent.glob(
            f"{result.model_file.stem}_trial*{result.model_file.suffix}"))
    print(f"Exported {result.runs} run(s) of {arguments.script} to "
          f"{', '.join(str(path) for path in model_files)}")
    if engine is None:
        return 0
    recordings = [path for model in model_files for path in _recording_files(model)]
    written = [path for path in recordings if path.exists()]
    if written:
        print("Recordings (SI units; read them with brian2tools.nmlexport.load_recordings):")
        for path in written:
            print(f"  {path}")
    else:
        print("The model records nothing (add a StateMonitor or SpikeMonitor to the script).")
    return 0
