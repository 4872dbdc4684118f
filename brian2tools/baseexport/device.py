"""
The ``'exporter'`` device: a runtime device that describes each run instead of simulating it.

`BaseExporter` subclasses Brian's `RuntimeDevice`, so everything a script
does before ``run()`` really happens: state variables are set (including
values drawn with ``rand()``), synapses are created by ``connect()``. The
device overrides Brian's device hooks to *record* each of these steps as it
happens (an `ExportLog`), and replaces ``Network.run`` by the collection of a
model description (see :doc:`/export_format`), without generating code for
the state updaters and without simulating.

Renderers (the ``'neuroml2'`` and ``'markdown'`` devices) subclass
`BaseExporter` and override `BaseExporter.render_and_write`; see the
documentation of the package (:mod:`brian2tools.baseexport`).
"""

from __future__ import annotations

import inspect
import itertools
import numbers
import weakref
from typing import Any

from brian2.core.namespace import get_local_namespace
from brian2.core.network import Network
from brian2.core.variables import VariableView
from brian2.devices.device import RuntimeDevice, all_devices
from brian2.synapses.synapses import Synapses
from brian2.units.allunits import second
from brian2.units.fundamentalunits import Quantity, fail_for_dimension_mismatch
from brian2.utils.logger import get_logger

from .collector import advance_network_time, collect_network
from .log import ExportLog
from .monitors import NotSimulatedError, is_monitor, recorded_variable_names
from .operations import state_action

__all__ = ["BaseExporter", "STANDALONE_BUILD_OPTIONS"]

logger = get_logger(__name__)

#: The options of Brian's standalone ``device.build(...)`` (and of
#: ``set_device('cpp_standalone', ...)``). Scripts written for standalone
#: mode pass them; an export device has no project to compile or run, so it
#: accepts and ignores them (see `BaseExporter.build`).
STANDALONE_BUILD_OPTIONS = frozenset({
    "directory",
    "results_directory",
    "compile",
    "run",
    "debug",
    "clean",
    "with_output",
    "additional_source_files",
    "run_args",
    "direct_call",
    "profile",
})

_ORIGINAL_SET_WITH_EXPRESSION = VariableView.set_with_expression.original_function
_ORIGINAL_SET_CONDITIONAL = VariableView.set_with_expression_conditional.original_function
_ORIGINAL_SET_WITH_INDEX_ARRAY = VariableView.set_with_index_array.original_function
_ORIGINAL_CONNECT = Synapses.connect.original_function
_ORIGINAL_STORE = Network.store.original_function
_ORIGINAL_RESTORE = Network.restore.original_function


class BaseExporter(RuntimeDevice):
    """
    A Brian device that collects a description of the network at each ``run()``.

    Registered under the name ``'exporter'``: after
    ``import brian2tools.baseexport`` and ``set_device('exporter')``, each
    ``run()`` appends one description (a dict, see :doc:`/export_format`)
    to `runs` instead of simulating. Models that use features that cannot be
    described faithfully are refused with an `UnsupportedFeatureError`.

    Subclasses render the descriptions: they override `render_and_write`,
    which `build` calls with all descriptions collected so far and the
    keyword arguments given to ``set_device`` (or to ``device.build``).
    With ``set_device(..., build_on_run=True)`` (the default) this happens
    at the end of every ``run()``; with ``build_on_run=False`` the script
    calls ``device.build(...)`` itself after its last ``run()``.

    Attributes
    ----------
    runs : list of dict
        One model description per ``run()`` call, in order.
    log : ExportLog
        What the script did to the model (assignments, ``connect()`` calls,
        seeds) in order, as recorded by the device hooks.

    Examples
    --------
    >>> from brian2 import NeuronGroup, ms, run, set_device, device
    >>> import brian2tools.baseexport
    >>> set_device('exporter')
    >>> group = NeuronGroup(2, 'dv/dt = -v / (10*ms) : 1')
    >>> group.v = 'i + 1'
    >>> run(5*ms)
    >>> device.runs[0]['neurongroups'][0]['initial_values']['v']
    array([1., 2.])
    """

    #: Whether `SpatialNeuron` objects are described (``'spatialneurons'``);
    #: exporters that cannot render them keep ``False`` and refuse them by name.
    spatial_neurons = False

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[dict[str, Any]] = []
        self.log = ExportLog()
        self._creation_counter = itertools.count()
        #: Brian object id -> position in creation order (see `add_array`)
        self.creation_order: dict[Any, int] = {}
        #: monitors of the exported runs: name -> weak reference
        self.exported_monitors: dict[str, weakref.ref] = {}
        #: names of the monitors that hold an engine's recordings
        self.simulated_monitors: set[str] = set()
        self._collecting = False

    # ------------------------------------------------------------------ #
    # Device life cycle
    # ------------------------------------------------------------------ #
    def reinit(self) -> None:
        """Forget all recorded runs and assignments (used by ``reinit_devices``)."""
        build_on_run = getattr(self, "build_on_run", True)
        build_options = getattr(self, "build_options", {})
        self.__init__()
        self.build_on_run = build_on_run
        self.build_options = build_options

    def add_array(self, var) -> None:
        # Every group creates its arrays when it is created: this is where the
        # device learns the order in which the objects were created.
        super().add_array(var)
        owner = getattr(var, "owner", None)
        if owner is not None:
            try:
                owner_id = owner.id
            except (ReferenceError, AttributeError):
                return
            if owner_id not in self.creation_order:
                self.creation_order[owner_id] = next(self._creation_counter)

    def get_value(self, var, access_data: bool = True):
        """
        The values of a variable; refused for the recordings of an exported run.

        Parameters
        ----------
        var : brian2.core.variables.ArrayVariable
            The variable.
        access_data : bool, optional
            As for Brian's `RuntimeDevice.get_value`.

        Returns
        -------
        ndarray

        Raises
        ------
        NotSimulatedError
            For the recorded data of a monitor (``monitor.t``, ``.v``, ``.i``,
            ``.rate``, ...) after ``run()`` exported the model without
            simulating it.
        """
        owner = getattr(var, "owner", None)
        if not self._collecting and owner is not None and self.exported_monitors:
            try:
                name = owner.name
            except ReferenceError:
                name = None
            if (name in self.exported_monitors and name not in self.simulated_monitors
                    and var.name in recorded_variable_names(owner)):
                raise NotSimulatedError(name, self._device_name())
        return super().get_value(var, access_data)

    def _device_name(self) -> str:
        from brian2.devices.device import all_devices

        return next((name for name, device in all_devices.items() if device is self),
                    type(self).__name__)

    def build(self, **build_options: Any) -> None:
        """
        Render the descriptions collected so far.

        Called at the end of each ``run()`` when the device was set with
        ``build_on_run=True``, or explicitly by the script as
        ``device.build(...)``.

        The options of Brian's standalone mode (``directory``, ``compile``,
        ``run``, ``debug``, ``clean``, ``with_output``, ``results_directory``,
        ``run_args``, ``additional_source_files``, ``direct_call``,
        ``profile``: `STANDALONE_BUILD_OPTIONS`) are accepted and ignored,
        with one log message naming them, so that a script written for
        ``cpp_standalone`` runs unchanged with an export device.

        Parameters
        ----------
        **build_options
            Options for `render_and_write`; they are added to (and override)
            the keyword arguments given to ``set_device``.

        Raises
        ------
        RuntimeError
            If no ``run()`` has been collected yet.
        """
        if not self.runs:
            raise RuntimeError(
                "Nothing to export: the script has not called run() with the "
                f"'{type(self).__name__}' device."
            )
        options = dict(getattr(self, "build_options", {}) or {})
        options.update(build_options)
        # options a renderer takes itself (the Markdown device's debug) are its own
        own = set(inspect.signature(self.render_and_write).parameters)
        ignored = sorted(name for name in options
                         if name in STANDALONE_BUILD_OPTIONS and name not in own)
        for name in ignored:
            del options[name]
        # direct_call is set by Brian itself, not by the script: not worth a message
        shown = [name for name in ignored if name != "direct_call"]
        if shown:
            names = [name for name, device in all_devices.items() if device is self]
            logger.info(
                f"The '{names[0] if names else type(self).__name__}' device exports the model and does not "
                f"compile or simulate it: ignored the standalone option(s) {', '.join(shown)}.",
                once=True,
            )
        self.render_and_write(self.runs, **options)

    def render_and_write(self, runs: list[dict[str, Any]], **build_options: Any) -> None:
        """
        Turn the descriptions into files: the one method renderers override.

        The ``'exporter'`` device itself writes nothing; the descriptions stay
        available in `runs`. A subclass renders ``runs`` to text (without
        looking at Brian objects again) and writes its files, e.g. with
        `~brian2tools.baseexport.files.write_text_atomic`.

        Parameters
        ----------
        runs : list of dict
            All descriptions collected so far, one per ``run()`` (the same
            list as `runs`; do not modify it).
        **build_options
            The keyword arguments of ``set_device`` / ``device.build`` (e.g.
            ``filename``). Subclasses should reject unknown options with a
            `TypeError` naming them.

        Raises
        ------
        TypeError
            In this base class, for any build option (it takes none).
        """
        if build_options:
            names = ", ".join(sorted(build_options))
            raise TypeError(f"The 'exporter' device takes no build options, got: {names}.")

    # ------------------------------------------------------------------ #
    # Hooks recording what the script does (Brian's device overrides)
    # ------------------------------------------------------------------ #
    def variableview_set_with_expression(
        self, variableview, item, code, run_namespace, check_units=True
    ):
        """
        Assign with a string expression (``group.v[10:20] = 'rand()*mV'``), and record it.

        Parameters
        ----------
        variableview : brian2.core.variables.VariableView
            The view the assignment goes through (``group.v``).
        item : slice, int array, ...
            Which cells.
        code : str
            The expression.
        run_namespace : dict
            The caller's namespace, for the expression's external names.
        check_units : bool, optional
            Whether Brian checks the expression's units.
        """
        _ORIGINAL_SET_WITH_EXPRESSION(variableview, item, code, run_namespace, check_units)
        self.log.record_assignment(
            variableview,
            item=item,
            value=code,
            run_namespace=run_namespace,
            run_index=len(self.runs),
        )

    def variableview_set_with_expression_conditional(
        self, variableview, cond, code, run_namespace, check_units=True
    ):
        """
        Assign under a string condition (``group.v['i > 5'] = ...``), and record it.

        Parameters
        ----------
        variableview : brian2.core.variables.VariableView
            The view the assignment goes through.
        cond : str
            The condition (``'True'`` for all cells).
        code : str
            The expression (Brian's code for a value such as ``-70*mV``).
        run_namespace : dict
            The caller's namespace, for the external names.
        check_units : bool, optional
            Whether Brian checks the expression's units.
        """
        _ORIGINAL_SET_CONDITIONAL(variableview, cond, code, run_namespace, check_units)
        self.log.record_assignment(
            variableview,
            item=cond,
            value=code,
            run_namespace=run_namespace,
            run_index=len(self.runs),
            conditional=True,
        )

    def variableview_set_with_index_array(self, variableview, item, value, check_units):
        """
        Assign values (``group.v = -70*mV``, ``group.v[:3] = [1, 2, 3]*mV``), and record them.

        Parameters
        ----------
        variableview : brian2.core.variables.VariableView
            The view the assignment goes through.
        item : slice, int array, ...
            Which cells.
        value : Quantity, array or number
            One value, or one per cell.
        check_units : bool
            Whether Brian checks the value's units.
        """
        _ORIGINAL_SET_WITH_INDEX_ARRAY(variableview, item, value, check_units)
        self.log.record_assignment(
            variableview,
            item=item,
            value=value,
            run_namespace=None,
            run_index=len(self.runs),
        )

    def synapses_connect(
        self,
        synapses,
        condition=None,
        i=None,
        j=None,
        p=1.0,
        n=1,
        skip_if_invalid=False,
        namespace=None,
        level=0,
    ):
        """
        Create synapses like the runtime device, and record the call.

        Parameters
        ----------
        synapses : brian2.Synapses
            The synapses to connect.
        condition, i, j, p, n, skip_if_invalid
            The arguments of `Synapses.connect`.
        namespace : dict, optional
            The namespace for the strings; the caller's by default.
        level : int, optional
            How many frames further up the caller is.
        """
        if namespace is None:
            # this method and the decorator sit between Synapses.connect's
            # caller and here, as they do for the original method
            namespace = get_local_namespace(level=level + 2)
        before = len(synapses)
        _ORIGINAL_CONNECT(
            synapses,
            condition=condition,
            i=i,
            j=j,
            p=p,
            n=n,
            skip_if_invalid=skip_if_invalid,
            namespace=namespace,
        )
        self.log.record_connect(
            synapses,
            condition=condition,
            i=i,
            j=j,
            p=p,
            n=n,
            skip_if_invalid=skip_if_invalid,
            run_namespace=namespace,
            first_synapse=before,
            run_index=len(self.runs),
        )

    def seed(self, seed=None) -> None:
        """
        Seed the random numbers like the runtime device, and record the seed.

        Parameters
        ----------
        seed : int, optional
            The seed, or ``None`` for a random one.
        """
        super().seed(seed)
        self.log.record_seed(seed, run_index=len(self.runs))

    def network_store(self, network, name="default", filename=None):
        """
        Store the network's state like the runtime device, and record the call.

        The state is what the script set up (the exporter simulates
        nothing); ``restore()`` brings it back, and the description of the
        next run lists the call in ``'actions'``.

        Parameters
        ----------
        network : brian2.Network
            The network to store.
        name : str, optional
            The snapshot's name.
        filename : str, optional
            A file to store the snapshot in.
        """
        _ORIGINAL_STORE(network, name=name, filename=filename)
        self.log.actions.append((len(self.runs),
                                 state_action("store", network, name, filename)))

    def network_restore(self, network, name="default", filename=None,
                        restore_random_state=False):
        """
        Restore a stored state like the runtime device, and record the call.

        Parameters
        ----------
        network : brian2.Network
            The network to restore.
        name : str, optional
            The snapshot's name.
        filename : str, optional
            The file the snapshot was stored in.
        restore_random_state : bool, optional
            As for `Network.restore`.
        """
        _ORIGINAL_RESTORE(network, name=name, filename=filename,
                          restore_random_state=restore_random_state)
        action = state_action("restore", network, name, filename)
        action["restore_random_state"] = bool(restore_random_state)
        self.log.actions.append((len(self.runs), action))

    def network_run(
        self,
        network: Network,
        duration,
        report=None,
        report_period=10 * second,
        namespace=None,
        profile=None,
        level: int = 0,
    ) -> None:
        """
        Describe the run instead of simulating it.

        Resolves every object's external names like Brian would (in
        ``namespace`` or in the caller's frame ``level`` levels up), appends
        the description to `runs`, advances the simulation time by
        ``duration`` (so a following ``run()`` starts where this one ends) and,
        with ``build_on_run``, calls `build`.

        Parameters
        ----------
        network : brian2.Network
            The network to describe.
        duration : Quantity
            The duration of the run.
        report, report_period, profile
            Ignored: nothing is simulated.
        namespace : dict, optional
            The run's namespace; the caller's locals and globals by default.
        level : int, optional
            How many frames further up the caller is.

        Raises
        ------
        UnsupportedFeatureError
            If the network uses something that cannot be described.
        """
        fail_for_dimension_mismatch(
            duration,
            second,
            "The duration of a run has to be a time, got {value}.",
            value=duration,
        )
        if not isinstance(duration, (Quantity, numbers.Number)) or float(duration) < 0:
            raise ValueError(
                f"Function 'run' expected a non-negative duration but got '{duration}'"
            )
        if namespace is None:
            # network_run and the device_override decorator replace
            # Network.run and its check_units wrapper
            namespace = get_local_namespace(level=level + 2)
        self._collecting = True
        try:
            description = collect_network(
                network,
                duration,
                namespace,
                log=self.log,
                run_index=len(self.runs),
                previous=self.runs[-1] if self.runs else None,
                creation_order=self.creation_order,
                spatial_neurons=self.spatial_neurons,
            )
        finally:
            self._collecting = False
        advance_network_time(network, duration)
        self.runs.append(description)
        for obj in network.objects:
            if is_monitor(obj):
                self.exported_monitors[obj.name] = weakref.ref(obj)
                self.simulated_monitors.discard(obj.name)
        if self.build_on_run:
            try:
                self.build(**self.build_options)
            except Exception:
                # the run was not exported: its description must not count as one
                # (the command lines report "exported N runs" from len(runs))
                self.runs.pop()
                raise
