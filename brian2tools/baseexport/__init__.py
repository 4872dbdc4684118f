"""
The collection layer of the exporters: the ``'exporter'`` device.

Importing this package registers the device ``'exporter'`` with Brian. A
script that calls ``set_device('exporter')`` runs as usual up to each
``run()``, which, instead of simulating, appends a description of the
network to ``device.runs`` (plain data, documented in :doc:`/export_format`)::

    from brian2 import *
    import brian2tools.baseexport

    set_device('exporter')
    group = NeuronGroup(100, 'dv/dt = (1 - v) / tau : 1', threshold='v > 0.8', reset='v = 0')
    group.v = 'rand() * 0.8'
    tau = 10*ms
    run(100*ms)
    print(device.runs[0]['neurongroups'][0]['namespace'])   # {'tau': 10. * msecond}

What cannot be described faithfully (user-defined functions such as
``TimedArray``, ``run_regularly``, ...) is refused at ``run()`` with an
`UnsupportedFeatureError` naming the object and the feature. Network
operations, groups on a clock with another ``dt``, linked variables and
``store``/``restore`` are described (see :mod:`.operations`); renderers
that cannot run them refuse them by name.

Writing an exporter on top of it
--------------------------------
A renderer is a subclass of `BaseExporter` that overrides one method,
``render_and_write(self, runs, **build_options)``, and registers itself as a
Brian device::

    from brian2.devices.device import all_devices
    from brian2tools.baseexport import BaseExporter, write_text_atomic

    class MarkdownExporter(BaseExporter):
        def render_and_write(self, runs, filename='model.md', **unknown):
            if unknown:
                raise TypeError(f"Unknown options: {', '.join(unknown)}")
            write_text_atomic(filename, render_markdown(runs))

    all_devices['markdown'] = MarkdownExporter()

The contract:

* ``runs`` is the list of descriptions collected so far, one per
  ``run()``, in order (``self.runs``). The renderer only reads it (it never
  goes back to Brian objects) and does not modify it.
* ``build_options`` are the keyword arguments of ``set_device('markdown',
  filename=...)``, updated with those of an explicit ``device.build(...)``.
* With ``set_device(..., build_on_run=True)`` (the default),
  ``render_and_write`` is called at the end of every ``run()`` with all runs
  so far, so the files always describe the whole script; with
  ``build_on_run=False`` it is called by ``device.build(**options)``.
* A renderer that cannot express something in the description (e.g. several
  runs, a stochastic equation) raises `UnsupportedFeatureError` itself.
* Files are written with `write_text_atomic` (temporary file, then
  ``os.replace``), so a failed export leaves no half-written file.
* ``reinit()`` (called by Brian's ``reinit_devices``) forgets all runs.

The description can also be collected without the device, for any
`Network`, with `collect_network` (no initialisers or ``connect()`` calls are
known then, but the values they produced are).
"""

from brian2.devices.device import all_devices

from .collector import collect_network, group_reference
from .device import BaseExporter
from .errors import SimulationError, UnsupportedFeatureError
from .files import write_text_atomic
from .log import ExportLog

__all__ = [
    "BaseExporter",
    "UnsupportedFeatureError",
    "SimulationError",
    "collect_network",
    "group_reference",
    "write_text_atomic",
    "ExportLog",
]

all_devices["exporter"] = BaseExporter()
