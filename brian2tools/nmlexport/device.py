"""
The ``'neuroml2'`` device: the exporter device that writes NeuroML2/LEMS.

`LEMSDevice` is the ``'exporter'`` device of :mod:`brian2tools.baseexport`
(which collects the description at each ``run()``) with a renderer: it
writes the model with `~.lemsexport.NMLExporter` (point neurons and
networks) or :mod:`.spatial_cells` (multi-compartment neurons) and
``LEMSUnitsConstants.xml`` atomically, and, when asked, simulates the
written model in an engine and fills the script's monitors with the
recordings (:mod:`.results`).
"""

from __future__ import annotations

import os

from brian2.devices.device import all_devices
from brian2.utils.logger import get_logger

from brian2tools.baseexport import BaseExporter, UnsupportedFeatureError, write_text_atomic

from .lemsexport import NMLExporter
from .results import (
    ENGINES,
    PORTABLE_ENGINES,
    brian_recordings,
    fill_monitors,
    simulate_model,
)
from .simulation_file import recordings_name_for
from .trials import is_trial_script, split_trials, trial_file_name, trial_runs
from .units import LEMS_UNITS_CONSTANTS_FILE, units_constants_xml
from .unsupported import refuse_unsupported

__all__ = ["LEMSDevice"]

logger = get_logger(__name__)


class LEMSDevice(BaseExporter):
    """
    The ``'neuroml2'`` device: exports the network of a script's ``run()`` to NeuroML2/LEMS.

    After ``import brian2tools.nmlexport`` and
    ``set_device('neuroml2', filename='model.xml')``, the ``run()`` of an
    otherwise unchanged script writes ``model.xml`` and
    ``LEMSUnitsConstants.xml`` next to it instead of simulating. Each
    further ``run()`` (with nothing changed in between) rewrites the model
    with the total duration.

    Build options (keyword arguments of ``set_device``):

    filename : str
        The model file to write (``'.xml'`` is appended if it has no
        extension). Required. A script with ``restore()`` is written as
        trials, ``<stem>_trial1.xml``, ``<stem>_trial2.xml``, ... (see
        :mod:`brian2tools.nmlexport.trials`).
    constants_file : str, optional
        Name of the file of unit constants (default
        ``'LEMSUnitsConstants.xml'``), written next to the model.
    lems_const_save : bool, optional
        Whether to write the file of unit constants (default ``True``).
    synapses : {'components', 'events'}, optional
        How synapses that add to a linear variable of their neurons are
        written (default ``'components'``: NeuroML synapse components and
        projections; ``'events'``: events on the receiving cells, faster in
        jNeuroML). Both are exact.
    portable : bool, optional
        Write the portable form: standard NeuroML populations (one per
        distinct set of cell values) of cell types that jNeuroML's NEURON
        writer translates (see :mod:`brian2tools.nmlexport.portable`).
        Default: ``True`` with ``simulate='neuron'`` or ``'netpyne'``, else
        ``False``.
    ranks : int, optional
        With ``simulate='netpyne'``: the number of MPI processes
        (``mpiexec -n ranks``; default 1).
    simulate : {None, 'jneuroml', 'neuron', 'netpyne'}, optional
        After writing the model, simulate it in this engine and fill the
        script's StateMonitors, SpikeMonitors and PopulationRateMonitors with
        its recordings, in Brian's units, indices and time steps (see
        :mod:`brian2tools.nmlexport.results`). Without it (the default),
        reading a monitor's recordings after ``run()`` raises
        `~brian2tools.baseexport.monitors.NotSimulatedError`: the model was
        exported, not simulated.

    Examples
    --------
    >>> import os, tempfile
    >>> from brian2 import NeuronGroup, ms, run, set_device
    >>> import brian2tools.nmlexport
    >>> folder = tempfile.mkdtemp()
    >>> set_device('neuroml2', filename=os.path.join(folder, 'model.xml'))
    >>> group = NeuronGroup(2, 'dv/dt = -v/(10*ms) : 1')
    >>> run(1*ms)
    >>> sorted(os.listdir(folder))
    ['LEMSUnitsConstants.xml', 'model.xml']
    """

    #: SpatialNeurons are exported as NeuroML cells for NEURON (:mod:`.spatial_cells`)
    spatial_neurons = True

    def render_and_write(self, runs, filename=None, constants_file=None, lems_const_save=True,
                         synapses="components", simulate=None, portable=None, ranks=1,
                         **unknown):
        """
        Render the collected runs and write the model and unit constants files.

        Parameters
        ----------
        runs : list of dict
            The descriptions collected by the device.
        filename : str
            The model file.
        constants_file : str, optional
            File name of the unit constants (default ``'LEMSUnitsConstants.xml'``).
        lems_const_save : bool, optional
            Write the unit constants file (default ``True``).
        synapses : {'components', 'events'}, optional
            How synapses that add to a linear neuron variable are written.
        simulate : {None, 'jneuroml', 'neuron'}, optional
            Simulate the written model in this engine and fill the script's
            monitors with its recordings (see :mod:`.results`).
        portable : bool, optional
            Write the portable form (:mod:`.portable`); the default is
            ``True`` with ``simulate='neuron'`` or ``'netpyne'``, else ``False``.
        ranks : int, optional
            MPI ranks of a NetPyNE simulation (default 1).
        **unknown
            Any other option is refused.

        Raises
        ------
        TypeError
            For a missing filename or unknown options.
        UnsupportedFeatureError
            For parts of the model that cannot be exported.
        """
        if unknown:
            raise TypeError(
                "The 'neuroml2' device does not know the option(s) "
                f"{', '.join(sorted(unknown))}; it takes filename, constants_file, "
                "lems_const_save, synapses, simulate, portable and ranks."
            )
        if simulate is not None and simulate not in ENGINES:
            raise ValueError(
                f"The 'neuroml2' device cannot simulate with {simulate!r}: simulate= takes "
                f"{', '.join(repr(engine) for engine in ENGINES)} (or None to only export)."
            )
        if not filename:
            raise TypeError(
                "The 'neuroml2' device needs the name of the model file: "
                "set_device('neuroml2', filename='model.xml')."
            )
        filename = os.fspath(filename)
        if not os.path.splitext(filename)[1]:
            filename += ".xml"
        spatial = any(run.get("spatialneurons") for run in runs)
        # before either renderer writes anything
        refuse_unsupported(runs, exported=() if spatial else ("clocks", "linked", "restore"))
        if spatial:
            self._render_spatial(runs, filename, simulate)
            return
        constants_name = constants_file or LEMS_UNITS_CONSTANTS_FILE
        if portable is None:
            portable = simulate in PORTABLE_ENGINES
        elif simulate in PORTABLE_ENGINES and not portable:
            raise ValueError(f"{simulate} runs the portable form of the export: "
                             f"simulate={simulate!r} needs portable=True.")
        trials, files = [runs], [filename]
        if is_trial_script(runs):  # store()/restore(): each trial a simulation (.trials)
            if portable:
                raise UnsupportedFeatureError(
                    "network", "restore() in the portable (NEURON-ready) form",
                    "Trials are exported as simulations of their own in the default form "
                    "(jNeuroML) only.")
            trials = [trial_runs(trial) for trial in split_trials(runs)]
            files = [trial_file_name(filename, k + 1) for k in range(len(trials))]
        exporters = []
        for trial, name in zip(trials, files, strict=True):  # all checked before writing
            exporter = NMLExporter()
            exporter.create_lems_model(trial, constants_file=os.path.basename(constants_name),
                                       synapses=synapses, portable=portable,
                                       recordingsname=recordings_name_for(name))
            exporters.append(exporter)
        folder = os.path.dirname(os.path.abspath(filename))
        if lems_const_save:
            write_text_atomic(os.path.join(folder, os.path.basename(constants_name)),
                              units_constants_xml())
        for exporter, name in zip(exporters, files, strict=True):
            written = exporter.export_to_file(name)
            logger.debug(f"NeuroML2/LEMS model written to {written}")
        self.exporter = exporters[-1]
        # the last trial is the one the script's monitors hold; a run without
        # monitors (a warm-up before monitors are created) has nothing to fill
        if simulate is not None and exporter.names["recordings"]:
            recordings = simulate_model(written, simulate, ranks=ranks)
            converted = brian_recordings(recordings, trials[-1], simulate,
                                         exporter.names.get("shared_events"))
            self.simulated_monitors.update(fill_monitors(self, self.exported_monitors, converted))

    def _render_spatial(self, runs, filename, simulate) -> None:
        """SpatialNeurons: NeuroML cells and a LEMS file for NEURON (:mod:`.spatial_cells`)."""
        from .spatial_cells import write_spatial_model
        from .spatial_outputs import spatial_recordings

        if simulate not in (None, "neuron"):
            raise UnsupportedFeatureError(
                runs[0]["spatialneurons"][0]["name"],
                f"a SpatialNeuron simulated with {simulate!r}",
                "Multi-compartment cells are simulated in NEURON: use simulate='neuron'.")
        written = write_spatial_model(runs, filename)
        self.spatial_files = written
        if simulate is not None:
            from .engines import simulate as simulate_lems

            simulate_lems(written["lems"], "neuron")
            converted = spatial_recordings(written, runs)
            self.simulated_monitors.update(fill_monitors(self, self.exported_monitors, converted))


all_devices["neuroml2"] = LEMSDevice()
