"""
Running an unchanged Brian script under an export device (for the command lines).

`run_script` is what ``python -m brian2tools.nmlexport`` and
``python -m brian2tools.mdexport`` share: it selects the export device, runs
the script as ``python SCRIPT.py`` would (its folder on ``sys.path``,
``__name__ == '__main__'``, its arguments in ``sys.argv``, a
non-interactive matplotlib backend), and puts everything back afterwards.

* ``set_device(...)`` calls in the script are ignored (with a note): the
  export device stays selected, whatever device the script asks for.
* Statements after ``run()`` that need simulation results (plots of
  monitors, ...) fail under an export device; the error is reported as a
  note, and the export stands if at least one ``run()`` was exported.
"""

from __future__ import annotations

import importlib
import os
import runpy
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brian2.utils.logger import get_logger

__all__ = ["ScriptRun", "run_script"]

logger = get_logger(__name__)


@dataclass
class ScriptRun:
    """
    What running a script under an export device gave.

    Attributes
    ----------
    runs : int
        Number of ``run()`` calls the device collected.
    notes : list of str
        What the user should know (ignored ``set_device`` calls, an error
        after the export, ...).
    result : object
        What the ``collect`` callback of `run_script` returned.
    """

    runs: int
    notes: list = field(default_factory=list)
    result: Any = None


def _guarded_set_device(notes: list, script: str, target: str, device_name: str):
    def set_device(device, build_on_run=True, **options):  # noqa: ARG001 -- ignored on purpose
        name = device if isinstance(device, str) else type(device).__name__
        notes.append(f"{script}: ignored set_device({name!r}); the script is exported to "
                     f"{target} with the '{device_name}' device.")
    return set_device


def run_script(
    script: str | os.PathLike,
    device_name: str,
    device_options: Mapping[str, Any],
    script_args: Sequence[str] = (),
    target: str | os.PathLike | None = None,
    collect: Callable[[Any], Any] | None = None,
) -> ScriptRun:
    """
    Run a Brian script with an export device selected.

    Parameters
    ----------
    script : str or os.PathLike
        The Brian script.
    device_name : str
        The device to select (e.g. ``'neuroml2'``, ``'markdown'``).
    device_options : mapping
        The keyword arguments of ``set_device`` (``filename``, ...).
    script_args : sequence of str, optional
        Arguments for the script (its ``sys.argv[1:]``).
    target : str or os.PathLike, optional
        What the export writes, for the notes (default: the device name).
    collect : callable, optional
        Called with the device after the script, before the device is
        reset; its return value is `ScriptRun.result`.

    Returns
    -------
    ScriptRun

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
    >>> import brian2tools.baseexport
    >>> folder = tempfile.mkdtemp()
    >>> script = os.path.join(folder, 'decay.py')
    >>> with open(script, 'w') as f:
    ...     _ = f.write("from brian2 import *\\n"
    ...                 "G = NeuronGroup(1, 'dv/dt = -v/(10*ms) : 1')\\n"
    ...                 "run(1*ms)\\n")
    >>> outcome = run_script(script, 'exporter', {},
    ...                      collect=lambda device: device.runs[0]['duration'])
    >>> outcome.runs, outcome.result
    (1, 1. * msecond)
    """
    import brian2
    from brian2.devices.device import reinit_and_delete

    # the module itself: the attribute brian2.devices.device is the device proxy
    device_module = importlib.import_module("brian2.devices.device")

    from .errors import SimulationError, UnsupportedFeatureError

    script = Path(script)
    if not script.is_file():
        raise FileNotFoundError(f"No Brian script at '{script}'.")
    notes: list[str] = []
    original = device_module.set_device
    original(device_name, **device_options)  # the export device, before the script builds anything
    exporter = device_module.get_device()
    guarded = _guarded_set_device(notes, script.name, str(target or device_name), device_name)
    saved_argv, saved_path = sys.argv, list(sys.path)
    saved_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    brian2.set_device = device_module.set_device = guarded
    sys.argv = [str(script), *script_args]
    sys.path.insert(0, str(script.resolve().parent))
    failure = None
    result = None
    propagating = True  # until the script's outcome is handled below
    try:
        runpy.run_path(str(script), run_name="__main__")
        propagating = False
    except (UnsupportedFeatureError, SimulationError):
        raise
    except SystemExit as error:
        propagating = False
        if error.code not in (None, 0):
            failure = f"the script exited with status {error.code}"
    except Exception as error:  # noqa: BLE001 -- reported with the place it happened
        propagating = False
        frames = [frame for frame in traceback.extract_tb(error.__traceback__)
                  if frame.filename == str(script)]
        where = f" (line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
        failure = f"{type(error).__name__}: {error}{where}"
    finally:
        brian2.set_device = device_module.set_device = original
        sys.argv, sys.path[:] = saved_argv, saved_path
        if saved_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved_backend
        runs = len(getattr(exporter, "runs", ()))
        try:
            if collect is not None and runs and not propagating:
                result = collect(exporter)
        finally:
            reinit_and_delete()
            original("runtime")
    if runs == 0:
        if failure:
            raise RuntimeError(f"{script} failed before its first run(), nothing was exported: "
                               f"{failure}")
        raise RuntimeError(f"{script} calls no run(): there is no network to export.")
    if failure:
        notes.append(
            f"{script.name} failed after the export of {runs} run(s): {failure}. Under an "
            "export device nothing is simulated, so statements that use results (plots of "
            "monitors, ...) fail; the exported model covers the runs before the error.")
    return ScriptRun(runs, notes, result)
