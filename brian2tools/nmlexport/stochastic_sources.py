"""
Spike sources drawn step by step: PoissonGroups with rates in time, binomial PoissonInputs.

NeuroML's ``spikeGeneratorPoisson`` has a constant rate and draws the
intervals between spikes. Brian works otherwise, step by step, and the
export follows it where the constant-rate source cannot:

* a PoissonGroup whose ``rates`` depend on ``t`` spikes when
  ``rand() < rates*dt``, one draw per cell and time step, with the rate of
  the step (its threshold). `time_varying_poisson_source` writes a source
  component type that tests ``random(1) .lt. rate * dt`` in every step, with
  the rate expression rendered for the step's time (``t - dt`` in jNeuroML,
  whose ``t`` is one step ahead during an update, as for the cells of
  :mod:`.neurongroup`); ``i`` is a parameter of each source cell.
* a PoissonInput adds ``weight * binomial(N, rate*dt)`` to its target
  variable in every step. Brian's `~brian2.input.binomial.BinomialFunction`
  (``approximate=True``, PoissonInput's choice) draws a *normal* number
  ``N*p + sqrt(N*p*(1-p)) * randn()`` when ``N*p > 5`` and ``N*(1-p) > 5``
  (not rounded, not clipped), and an exact binomial number otherwise.
  `binomial_input_draw` writes the normal approximation with the Box–Muller
  draw of :mod:`.noise`; the event that applies it comes from a source that
  fires in every step (`every_step_source`), through the same port, gates
  and timing as the other Poisson inputs of :mod:`.network_sources`. The
  exact binomial draw with ``N*p <= 5`` (an inversion loop in Brian) has no
  LEMS expression and is refused by name when ``N*rate*dt`` is too large
  for a Poisson source.

The draws are the engine's, not Brian's: the sources are faithful in
distribution (tests in ``tests/test_nmlexport_stochastic.py``).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping

import numpy as np
from brian2 import second
from brian2.core.namespace import DEFAULT_UNITS
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .lemsrendering import identifiers_in, render_expression
from .noise import NORMAL_DRAW
from .truth_values import UNIFORM_DRAW, comparison_units
from .units import format_number, format_quantity, lems_dimension

__all__ = ["time_varying_poisson_source", "binomial_input_draw", "every_step_source",
           "refuse_time_varying_sources"]

logger = get_logger(__name__)

# names of the source type's own members, which the rates cannot use for constants
_RESERVED = ("t", "dt", "i", "tsince", "spike")
_STEP_TIME = "(t - dt)"
# names the renderer writes itself
_KNOWN = ("pi", "e", "True", "False")


def _source_type(name: str, test: str, constants: Mapping[str, str],
                 parameters: Mapping[str, str]) -> ET.Element:
    """A spike source type that emits a spike whenever ``test`` holds after a step."""
    source = ET.Element("ComponentType", {"name": name, "extends": "baseSpikeSource"})
    for parameter, dimension in parameters.items():
        ET.SubElement(source, "Parameter", {"name": parameter, "dimension": dimension})
    for constant, value_and_dimension in constants.items():
        value, dimension = value_and_dimension.split("|")
        ET.SubElement(source, "Constant", {"name": constant, "dimension": dimension,
                                           "value": value})
    dynamics = ET.SubElement(source, "Dynamics")
    # baseSpikeSource exposes the time since the last spike
    ET.SubElement(dynamics, "StateVariable", {"name": "tsince", "dimension": "time",
                                              "exposure": "tsince"})
    ET.SubElement(dynamics, "TimeDerivative", {"variable": "tsince", "value": "1"})
    start = ET.SubElement(dynamics, "OnStart")
    ET.SubElement(start, "StateAssignment", {"variable": "tsince", "value": "0"})
    spike = ET.SubElement(dynamics, "OnCondition", {"test": test})
    ET.SubElement(spike, "StateAssignment", {"variable": "tsince", "value": "0"})
    ET.SubElement(spike, "EventOut", {"port": "spike"})
    return source


def _constant(value, owner: str, what: str) -> str:
    """``'<value>|<dimension>'`` of a constant of a source type (core dimensions only)."""
    dimension = lems_dimension(value, owner)
    if not dimension.is_core:
        raise UnsupportedFeatureError(
            owner, f"the constant {what} of dimension '{dimension.name}' in the rates",
            "The source types use the dimensions NeuroML declares only.")
    return f"{format_quantity(value, dimension)}|{dimension.name}"


class _SourceUnits:
    """What `~.truth_values.comparison_units` asks of a cell builder, for a source type."""

    def __init__(self, owner: str, namespace: Mapping, constants: dict):
        self.owner, self.namespace, self.constants = owner, namespace, constants
        self.names = self

    def _units(self) -> dict:
        return {**DEFAULT_UNITS, **{key: value for key, value in self.namespace.items()
                                    if np.ndim(value) == 0}}

    def new(self, base: str) -> str:
        name = base
        while name in self.constants or name in self.namespace or name in _RESERVED:
            name += "_"
        return name

    def dimension_of(self, value):
        return lems_dimension(value, self.owner)

    def constant(self, name: str, value) -> None:
        self.constants[name] = _constant(value, self.owner, f"'{name}'")


def time_varying_poisson_source(group: Mapping, dt: float, type_name: str,
                                refuse: Callable[..., UnsupportedFeatureError]
                                ) -> tuple[ET.Element, list[ET.Element], dict]:
    """
    A PoissonGroup with rates that depend on time, as sources drawing in every step.

    Parameters
    ----------
    group : dict
        The *poisson group* description; ``rates`` is Brian code using ``t``.
    dt : float
        The simulation time step (seconds).
    type_name : str
        The name of the source component type.
    refuse : callable
        Makes the `UnsupportedFeatureError` of the group: ``refuse(feature, hint)``.

    Returns
    -------
    source_type : Element
        The ``ComponentType`` (extends ``baseSpikeSource``): spikes when
        ``random(1) .lt. rate * dt``, once per cell and step.
    children : list of Element
        One ``Component`` per cell (with its index ``i`` if the rates use it).
    prototype : dict
        The attributes of the population's prototype component.

    Raises
    ------
    UnsupportedFeatureError
        If the rates use something a source cannot compute (a non-scalar
        constant, a TimedArray, a function LEMS lacks, a variable).

    Examples
    --------
    >>> from brian2 import Hz
    >>> group = {'name': 'p', 'N': 2, 'rates': 'r*(1 + sin(t/second))', 'namespace': {'r': 5*Hz}}
    >>> source, children, _ = time_varying_poisson_source(group, 1e-4, 'p_source', None)
    >>> source.find('Dynamics/OnCondition').get('test')
    'random(1) .lt. (r * (1 + sin((t - dt) / second))) * dt'
    >>> len(children)
    2
    """
    rates = str(group["rates"])
    size = int(group["N"])
    owner = group["name"]
    namespace = group.get("namespace") or {}
    constants = {"dt": _constant(dt * second, owner, "dt")}
    mapping = {"t": _STEP_TIME, "dt": "dt"}
    parameters = {}
    for identifier in sorted(identifiers_in(rates) - {"t", "dt", *_KNOWN}):
        if identifier == "i":
            parameters["i"] = "none"
            mapping["i"] = "i"
            continue
        value = size if identifier == "N" else (
            namespace[identifier] if identifier in namespace else DEFAULT_UNITS.get(identifier))
        if value is None or identifier in _RESERVED:
            raise refuse(f"'{identifier}' in the time-dependent rates '{rates}'",
                         "The rates of a source can use t, i, N, constants and units.")
        if np.ndim(value) != 0:
            raise refuse(f"the non-scalar constant '{identifier}' in the rates '{rates}'")
        constants[identifier] = _constant(value, owner, f"'{identifier}'")
        mapping[identifier] = identifier
    with comparison_units(_SourceUnits(owner, namespace, constants)):
        rate = render_expression(rates, mapping, owner, "the rates")
    test = f"{UNIFORM_DRAW} .lt. ({rate}) * dt"  # Brian's threshold: rand() < rates*dt
    source = _source_type(type_name, test, constants, parameters)
    children = []
    for index in range(size):
        attributes = {"type": type_name}
        if parameters:
            attributes["i"] = str(index)
        children.append(ET.Element("Component", attributes))
    return source, children, ({"i": "0"} if parameters else {})


def every_step_source(type_name: str) -> ET.Element:
    """
    A spike source type that fires in every time step (from the first one).

    Parameters
    ----------
    type_name : str
        The name of the component type.

    Returns
    -------
    Element

    Examples
    --------
    >>> every_step_source('clock').find('Dynamics/OnCondition').get('test')
    't .geq. 0'
    """
    return _source_type(type_name, "t .geq. 0", {}, {})


def _survival(size: int, probability: float, count: int) -> np.ndarray:
    """``P(X >= k)`` for k = 0..count of X ~ binomial(size, probability), from the tail up."""
    top = min(size, count + 200)  # the terms beyond are far below double precision
    # Brian's recurrence; (1-p)**N >= exp(-5) here (the exact draws have N*p <= 5)
    pmf = np.empty(top + 1)
    pmf[0] = (1 - probability) ** size
    for k in range(1, top + 1):
        pmf[k] = pmf[k - 1] * (size - k + 1) / k * probability / (1 - probability)
    tail = np.cumsum(pmf[::-1])[::-1]  # summed from the smallest terms
    return tail[:count + 1] / tail[0]


def _exact_binomial(size: int, probability: float) -> str:
    """
    An exact binomial draw as nested Bernoulli steps, one uniform draw each.

    ``X >= k`` given ``X >= k-1`` has the probability ``q_k = S(k)/S(k-1)``
    (``S(k) = P(X >= k)``): ``X = B_1 (1 + B_2 (1 + ... (1 + B_K)))`` with
    ``B_k = H(q_k - random(1))`` has exactly the binomial distribution up to
    ``K``, Brian's bound ``N*p + 10*sqrt(N*p*q + 1)`` beyond which its
    inversion loop draws again (the mass left out is below 1e-20).
    """
    reverse = probability > 0.5  # as Brian: draw the failures, return N - X
    p = 1 - probability if reverse else probability
    bound = int(min(size, size * p + 10 * math.sqrt(size * p * (1 - p) + 1)))
    survival = _survival(size, p, bound)
    text = ""
    for k in range(bound, 0, -1):
        if survival[k - 1] <= 0 or survival[k] <= 0:
            continue
        step = f"H({format_number(survival[k] / survival[k - 1])} - {UNIFORM_DRAW})"
        text = step if not text else f"{step} * (1 + {text})"
    text = f"({text or '0'})"
    return f"({size} - {text})" if reverse else text


def binomial_input_draw(size: int, probability: float,
                        refuse: Callable[..., UnsupportedFeatureError]) -> str:
    """
    The LEMS expression of one draw of Brian's PoissonInput: ``binomial(N, rate*dt)``.

    Parameters
    ----------
    size : int
        ``N``, the number of Poisson sources of the input.
    probability : float
        ``rate * dt``, the probability that one source fires in a step.
    refuse : callable
        Makes the `UnsupportedFeatureError` of the input: ``refuse(feature, hint)``.

    Returns
    -------
    str
        Where Brian uses its normal approximation (``N*p > 5`` and
        ``N*(1-p) > 5``): ``N*p + sqrt(N*p*(1-p)) * n`` with a Box–Muller normal
        number ``n``, neither rounded nor clipped, as in Brian. Otherwise an
        exact binomial number: nested Bernoulli steps (`_exact_binomial`).

    Raises
    ------
    UnsupportedFeatureError
        For a probability outside [0, 1].

    Examples
    --------
    >>> binomial_input_draw(1000, 0.01, None).split(' * (')[0]
    '(10 + 3.146426544510455'
    >>> binomial_input_draw(2, 0.5, None)
    '(H(0.75 - random(1)) * (1 + H(0.3333333333333333 - random(1))))'
    """
    if not 0 <= probability <= 1:
        raise refuse(f"the probability rate*dt = {probability:g} of each of its sources")
    mean = size * probability
    if not (mean > 5 and size * (1 - probability) > 5):
        return _exact_binomial(size, probability)
    scale = math.sqrt(size * probability * (1 - probability))
    return f"({format_number(mean)} + {format_number(scale)} * ({NORMAL_DRAW}))"


def refuse_time_varying_sources(description: Mapping) -> None:
    """
    Refuse, by name, a PoissonGroup with rates in time in the portable (NEURON-ready) form.

    NEURON tests conditions that do not involve ``v`` in the middle of a
    step, jNeuroML at its end (:mod:`.run_changes`): the rate of a step and
    its draw would not be Brian's. Such groups are exported in the default
    form (jNeuroML) only.

    Parameters
    ----------
    description : dict
        The network description (its ``poissongroups``).

    Raises
    ------
    UnsupportedFeatureError
        For the first PoissonGroup whose rates depend on ``t``.

    Examples
    --------
    >>> refuse_time_varying_sources({'poissongroups': [{'name': 'p', 'rates': '5*Hz'}]})
    """
    for group in description.get("poissongroups") or ():
        rates = group.get("rates")
        if isinstance(rates, str) and "t" in identifiers_in(rates):
            raise UnsupportedFeatureError(
                group["name"], f"the time-dependent rates '{rates}' in the portable "
                "(NEURON-ready) form",
                "NEURON evaluates functions of time and conditions in the middle of a step, "
                "jNeuroML at its end: export the model in the default form (jNeuroML).")
