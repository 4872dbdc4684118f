"""
The checks the collection makes before it describes a run.

Brian checks a network in ``Network.before_run``; the collection generates
no code, so it repeats here the checks that need none: unique names, one
network per object, active objects (``_check_network``), regular clocks
(``_check_clock``) and no operations attached to an object beyond those its
description covers (``_check_contained``). What fails is refused with an
`UnsupportedFeatureError` (or Brian's own error) naming the object.
"""

from __future__ import annotations

from brian2.core.clocks import Clock
from brian2.core.network import Network
from brian2.groups.group import CodeRunner
from brian2.groups.neurongroup import (
    NeuronGroup,
    Resetter,
    StateUpdater,
    SubexpressionUpdater,
    Thresholder,
)
from brian2.groups.subgroup import Subgroup
from brian2.input.poissongroup import PoissonGroup
from brian2.spatialneuron.spatialneuron import SpatialNeuron, SpatialStateUpdater
from brian2.synapses.synapses import (
    StateUpdater as SynapticStateUpdater,
)
from brian2.synapses.synapses import (
    SummedVariableUpdater,
    Synapses,
    SynapticPathway,
)
from brian2.units.fundamentalunits import Quantity
from brian2.utils.logger import get_logger

from .errors import UnsupportedFeatureError

__all__: list[str] = []

logger = get_logger(__name__)

#: The helper objects Brian creates inside each class and that the description covers
_KNOWN_CONTAINED = {
    NeuronGroup: (StateUpdater, Thresholder, Resetter, SubexpressionUpdater),
    # after NeuronGroup: the last class that matches counts
    SpatialNeuron: (SpatialStateUpdater, StateUpdater, Thresholder, Resetter,
                    SubexpressionUpdater),
    PoissonGroup: (Thresholder,),
    Synapses: (
        SynapticPathway,
        SummedVariableUpdater,
        SynapticStateUpdater,
        SubexpressionUpdater,
    ),
}


def _check_clock(obj, dt, allow_own_dt: bool = False) -> Quantity:  # noqa: ARG001
    """The dt of ``obj``'s clock, refusing clocks that are not regular `Clock` objects."""
    clock = obj.clock
    if not isinstance(clock, Clock):
        raise UnsupportedFeatureError(
            obj.name,
            f"the clock '{clock.name}' of type {type(clock).__name__}",
            "Only regular clocks (Clock with a fixed dt) can be exported.",
        )
    # a clock with another dt is described (the object's 'clock' entry, see
    # _add_own_clock); exporters that cannot run it refuse it by name
    return clock.dt


def _is_run_regularly(obj) -> bool:
    """Whether ``obj`` is the code runner of a ``run_regularly`` call."""
    return type(obj) is CodeRunner and "run_regularly" in obj.name


def _check_contained(obj, dt, run_regularly: bool = False) -> list:
    """
    Refuse operations attached to ``obj`` beyond those its description covers.

    With ``run_regularly``, the ``run_regularly`` operations of ``obj`` and of
    its sub-groups are accepted and returned (in the order of Brian's list).
    """
    allowed = ()
    for cls, classes in _KNOWN_CONTAINED.items():
        if isinstance(obj, cls):
            allowed = classes
    accepted = []
    for contained in obj.contained_objects:
        if type(contained) in allowed:
            _check_clock(contained, dt)
            continue
        # an operation on a sub-group (G[:10].run_regularly(...)) is contained in
        # the sub-group, which the group keeps: name the operation, not the sub-group
        inner = [op for op in getattr(contained, "contained_objects", ())
                 if isinstance(op, CodeRunner)]
        if run_regularly and _is_run_regularly(contained):
            accepted.append(contained)
            continue
        if (run_regularly and isinstance(contained, Subgroup) and inner
                and len(inner) == len(contained.contained_objects)
                and all(_is_run_regularly(op) for op in inner)):
            accepted.extend(inner)
            continue
        if isinstance(contained, CodeRunner) and "run_regularly" in contained.name:
            feature = f"the run_regularly operation '{contained.name}'"
        elif inner:
            kind = "run_regularly operation" if "run_regularly" in inner[0].name else "operation"
            feature = (f"the {kind} '{inner[0].name}' on its sub-group "
                       f"'{contained.name}'")
        else:
            feature = f"the operation '{contained.name}' ({type(contained).__name__})"
        raise UnsupportedFeatureError(
            obj.name, feature, "Custom operations during a run cannot be exported."
        )
    return accepted


def _check_network(network: Network, objects) -> None:
    """The checks of Brian's ``Network.before_run`` that do not need code generation."""
    all_objects = [obj for obj in network.sorted_objects]
    names = [obj.name for obj in all_objects]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        formatted = ", ".join(f"'{name}'" for name in duplicates)
        raise ValueError(
            "All objects in a network need to have unique names, the following "
            f"name(s) were used more than once: {formatted}"
        )
    network.check_dependencies()
    for obj in all_objects:
        if obj._network is None:
            obj._network = network.id
        elif obj._network != network.id:
            raise RuntimeError(
                f"'{obj.name}' has already been run in the context of another network. "
                "Use add/remove to change the objects in a simulated network instead "
                "of creating a new one."
            )
    for obj in objects:
        if not obj.active:
            raise UnsupportedFeatureError(
                obj.name,
                "active=False (an object switched off for this run)",
                "Remove the object from the network instead.",
            )
