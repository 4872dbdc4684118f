"""
Synapses with a state of their own (STDP, short-term plasticity) as NeuroML synapse components.

A Brian ``Synapses`` object whose pathways change per-synapse variables, or
whose synaptic variables have equations (``(event-driven)`` or
``(clock-driven)``), keeps a state per synapse. NeuroML instantiates one
synapse component per connection on the post-synaptic cell, which is where
that state lives:

* the synapse component type extends the group's synapse base type of
  :mod:`.synapse_components`, so it also carries its own copy of the
  post-synaptic variables its ``on_pre`` adds to (``ge += w``: the
  variable must have linear dynamics, the cell sums its synapses' copies);
* its state holds the synaptic variables (``w``, ``Apre``, ``Apost``,
  ``lastupdate``); one of them may differ between synapses initially: it
  is the ``weight`` of each ``connectionWD``;
* the ``on_pre`` statements run in the ``OnEvent`` of the presynaptic
  spike, with Brian's exact update of the event-driven variables from
  ``lastupdate`` first (Brian's own code for it, `event_driven_update`);
* the ``on_post`` statements run when the post-synaptic cell has spiked:
  the cell exposes ``lastspike`` and the synapse (a ``Requirement``)
  tests it in an ``OnCondition``.

This module plans the synapse types (the checks, what each pathway runs, the
connections); :mod:`.plastic_rendering` writes them as LEMS.

Timing (checked in jNeuroML, see :doc:`/nmlexport_network`): an event of a
presynaptic spike Brian processes in step ``n`` (``t_n``) arrives at the
start of the jNeuroML step whose time is ``t_(n+1)``, so the synapse's
time of the event is ``t - dt``; a post-synaptic spike of step ``m`` is seen
by the synapse at the end of the step starting at ``t_(m+1)`` (the
synapse's conditions run before its cell's), with ``lastspike = t_m``. So
within one jNeuroML step the synapse handles the pre-synaptic events and
then the post-synaptic spike of the same Brian step, in Brian's order, with
Brian's times: event-driven variables and everything the pathways compute
are exact. Clock-driven variables are integrated (forward Euler) by the
synapse; the ``on_pre`` statements see them as Brian does, the
``on_post`` statements one step later, so ``on_post`` may not use them.
With a delay of at least one step for every synapse, ``on_pre`` runs in
Brian's step instead; ``on_pre`` may add to any post-synaptic variable
(the synapses deliver the increments): see :mod:`.plastic_delivery`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from brian2 import Equations, second
from brian2.stateupdaters.exact import linear
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

from .lemsrendering import identifiers_in, parse_statements
from .method_steps import stepped_method
from .plastic_delivery import Delivery, plan_delivery
from .summed_variables import plan_summed_variables
from .units import constant_value

__all__ = [
    "PlasticSynapses",
    "is_plastic",
    "plan_plastic_synapses",
    "event_driven_update",
    "plastic_delays",
]

logger = get_logger(__name__)

# LEMS names inside a plastic synapse type
_EVENT_TIME = "t__event"
_SEEN = "lastspike__seen"
_LASTSPIKE = "lastspike"
_LASTUPDATE = "lastupdate"
# names the synapse base types and LEMS give a meaning to
_RESERVED = {"i", "weight", "t", "dt", _EVENT_TIME, _SEEN, _LASTSPIKE}
# Brian names a pathway may use that a synapse component cannot provide
_INTERNALS = ("i", "j", "N", "N_incoming", "N_outgoing", "delay", "xi")


@dataclass
class PlasticSynapses:
    """
    The plan of one plastic ``Synapses`` object: a synapse component type with a state.

    Attributes
    ----------
    name : str
        The Brian object.
    group : str
        The post-synaptic neuron group (the synapses are attached to its cells).
    changed : list of str
        The post-synaptic variables ``on_pre`` adds to (carried by the synapses).
    state : dict
        Brian name -> LEMS name of each synaptic state variable.
    units : dict
        Brian name -> unit of each synaptic state variable.
    initial : dict
        Brian name -> initial value (SI) of the variables that start equal in
        every synapse.
    weighted : str or None
        The variable whose initial value differs between synapses (the
        connection's ``weight``, in SI units).
    pre : list of (str, str, str)
        The statements of ``on_pre``, with the event-driven update before them.
    post : list of (str, str, str)
        The same for ``on_post`` (empty if there is none).
    clock_driven : dict
        Brian name -> right-hand side of the clock-driven equations.
    method : str or None
        The method whose steps the clock-driven equations take
        (:mod:`.method_steps`; ``None``: forward Euler).
    temporaries : dict
        Brian name -> unit of the temporaries the pathways' code assigns
        (``r = u*x``).
    namespace : dict
        The object's namespace.
    type_name, component : str
        The synapse component type and its component (filled in by the network export).
    delivery : Delivery or None
        What ``on_pre`` adds to post-synaptic variables the synapses do not
        carry (:mod:`.plastic_delivery`).
    summed : dict
        Post-synaptic variable -> (term, unit) of the summed variables (:mod:`.summed_variables`).
    """

    name: str
    group: str
    changed: list = field(default_factory=list)
    state: dict = field(default_factory=dict)
    units: dict = field(default_factory=dict)
    initial: dict = field(default_factory=dict)
    weighted: str | None = None
    pre: list = field(default_factory=list)
    post: list = field(default_factory=list)
    clock_driven: dict = field(default_factory=dict)
    method: str | None = None
    temporaries: dict = field(default_factory=dict)
    namespace: dict = field(default_factory=dict)
    type_name: str = ""
    component: str = ""
    delivery: Delivery | None = None
    summed: dict = field(default_factory=dict)


def _equations(synapses: Mapping) -> dict:
    return {eq["name"]: eq for eq in synapses.get("equations") or ()}


def _pathway_statements(synapses: Mapping, pathway: Mapping) -> list:
    # Brian dedents code strings; each statement here is one line
    code = "\n".join(line.strip() for line in (pathway.get("code") or "").splitlines())
    if not code.strip():
        return []
    return parse_statements(code, synapses["name"],
                            f"the '{pathway.get('name') or pathway['prepost']}' pathway")


def is_plastic(synapses: Mapping) -> bool:
    """
    Whether a ``Synapses`` object keeps a state of its own per synapse.

    That is: it has differential equations or summed variables, or its
    pathways change synaptic variables.

    Parameters
    ----------
    synapses : mapping
        A *synapses* entry of the model description.

    Returns
    -------
    bool

    Examples
    --------
    >>> from brian2 import Unit
    >>> plastic = {'name': 'S', 'equations': [{'name': 'w', 'type': 'parameter',
    ...            'unit': Unit(1), 'flags': []}],
    ...            'pathways': [{'prepost': 'pre', 'code': 'ge += w\\nw = w*0.5'}]}
    >>> is_plastic(plastic), is_plastic({**plastic, 'pathways': [{'prepost': 'pre',
    ...                                                           'code': 'ge += w'}]})
    (True, False)
    """
    equations = _equations(synapses)
    if any(eq["type"] == "differential equation" or "summed" in (eq.get("flags") or ())
           for eq in equations.values()):
        return True  # summed variables: terms of a synapse component (.summed_variables)
    for pathway in synapses.get("pathways") or ():
        for target, _, _ in _pathway_statements(synapses, pathway):
            if target in equations:
                return True
    return False


def event_driven_update(equations: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """
    Brian's update of event-driven variables at an event, as statements.

    Brian solves the event-driven equations with its ``linear`` state
    updater and replaces ``dt`` by ``(t - lastupdate)``; the same is done
    here, so the export runs Brian's own update.

    Parameters
    ----------
    equations : mapping
        Variable -> right-hand side of its ``(event-driven)`` equation.

    Returns
    -------
    list of (target, operator, expression)
        Temporaries are named ``_x`` as in Brian.

    Examples
    --------
    >>> for statement in event_driven_update({'Apre': '-Apre/taupre'}):
    ...     print(statement)
    ('_Apre', '=', 'Apre * exp(-(t - lastupdate) / taupre)')
    ('Apre', '=', '_Apre')
    """
    text = "\n".join(f"d{name}/dt = {expr} : 1" for name, expr in equations.items())
    code = linear(Equations(text))
    code = re.sub(r"\bdt\b", "(t - lastupdate)", code)
    return parse_statements(code, "event-driven update")


def plastic_delays(steps, dt: float) -> np.ndarray:
    """
    The LEMS delays of the presynaptic events of plastic synapses.

    ``(steps + 1/2) * dt``: the event of a spike Brian processes in step
    ``n`` reaches the synapse at the start of the jNeuroML step starting at
    ``t_(n+1)``, before the post-synaptic spikes of step ``n`` are seen
    (the order of Brian's pathways). Kept here, apart from the delays of
    other synapses, because the synapse's post-synaptic pathway relies on
    this timing.

    Parameters
    ----------
    steps : array of int
        Brian's delays in time steps.
    dt : float
        The time step (seconds).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> plastic_delays([0, 2], 0.0001).tolist()
    [5e-05, 0.00025]
    """
    return (np.asarray(steps, dtype=float) + 0.5) * float(dt)


# --------------------------------------------------------------- planning
def _refuser(name: str):
    def refuse(feature: str, hint: str | None = None) -> UnsupportedFeatureError:
        return UnsupportedFeatureError(name, feature, hint)
    return refuse


def _resolve(identifier: str, synaptic: set, cell_variables: Mapping[str, set]):
    """('syn' | 'pre' | 'post', name) of a variable in synaptic code, else None."""
    if identifier in synaptic:
        return "syn", identifier
    for suffix, side in (("_pre", "pre"), ("_post", "post")):
        if identifier.endswith(suffix) and identifier[: -len(suffix)] in cell_variables[side]:
            return side, identifier[: -len(suffix)]
    if identifier in cell_variables["post"]:
        return "post", identifier
    return None


def plan_plastic_synapses(synapses: Mapping, sides: Mapping[str, Mapping],
                          components: Mapping[str, Mapping]) -> PlasticSynapses:
    """
    Check a plastic ``Synapses`` object and plan its synapse component type.

    Parameters
    ----------
    synapses : mapping
        A *synapses* entry of the model description (`is_plastic`).
    sides : mapping
        ``'pre'`` and ``'post'`` -> the groups (model description) connected.
    components : mapping
        Neuron group -> its variables that synapses can carry
        (`~.synapse_components.linear_components`).

    Returns
    -------
    PlasticSynapses

    Raises
    ------
    UnsupportedFeatureError
        Naming the object and the feature NeuroML cannot reproduce exactly.

    Examples
    --------
    >>> from brian2 import Unit, ms
    >>> post = {'name': 'P', 'kind': 'neurongroup', 'equations': [
    ...     {'name': 'ge', 'type': 'differential equation', 'expr': '-ge/(5*ms)',
    ...      'unit': Unit(1), 'flags': []}]}
    >>> synapses = {'name': 'S', 'equations': [
    ...     {'name': 'w', 'type': 'parameter', 'unit': Unit(1), 'flags': []},
    ...     {'name': 'A', 'type': 'differential equation', 'expr': '-A/tau',
    ...      'unit': Unit(1), 'flags': ['event-driven']}],
    ...     'pathways': [{'name': 'pre', 'prepost': 'pre', 'event': 'spike', 'delay': 0*ms,
    ...                   'code': 'ge += w\\nA += 1'}],
    ...     'namespace': {'tau': 20*ms}, 'initial_values': {'w': [0.5, 0.25], 'A': [0, 0]}}
    >>> plan = plan_plastic_synapses(synapses, {'pre': post, 'post': post},
    ...                              {'P': {'ge': frozenset({'ge'})}})
    >>> plan.changed, plan.weighted, plan.initial
    (['ge'], 'w', {'A': 0.0, 'lastupdate': 0.0})
    """
    name = synapses["name"]
    refuse = _refuser(name)
    post = sides["post"]
    if post.get("kind") != "neurongroup":
        raise refuse(f"plastic synapses onto '{post['name']}', which is not a NeuronGroup",
                     "A synapse with a state lives on its post-synaptic cell.")
    # summed variables are terms the synapse exposes (.summed_variables), not its state
    equations = {variable: eq for variable, eq in _equations(synapses).items()
                 if "summed" not in (eq.get("flags") or ())}
    for variable, eq in equations.items():
        if eq["type"] == "subexpression":
            raise refuse(f"the synaptic subexpression '{variable}'",
                         "Write its expression where it is used.")
    synaptic = set(equations)
    cell_variables = {side: {eq["name"] for eq in group.get("equations") or ()}
                      for side, group in sides.items()}
    event_driven = {variable: eq["expr"] for variable, eq in equations.items()
                    if eq["type"] == "differential equation"
                    and "event-driven" in (eq.get("flags") or ())}
    clock_driven = {variable: eq["expr"] for variable, eq in equations.items()
                    if eq["type"] == "differential equation" and variable not in event_driven}
    plan = PlasticSynapses(name, post["name"], namespace=dict(synapses.get("namespace") or {}),
                           clock_driven=clock_driven, method=stepped_method({
                               **synapses, "equations": [equations[v] for v in clock_driven]}))
    written_out_update = any(
        _LASTUPDATE in identifiers_in(expr) or target == _LASTUPDATE
        for pathway in synapses.get("pathways") or ()
        for target, _, expr in _pathway_statements(synapses, pathway))
    # Brian adds lastupdate with event-driven equations; code that writes the update
    # out declares it (the description leaves it out, as Brian's own variable)
    if written_out_update and _LASTUPDATE not in synaptic and not event_driven:
        synaptic.add(_LASTUPDATE)
    state = sorted(synaptic) + ([_LASTUPDATE] if event_driven else [])
    for variable in state:
        plan.state[variable] = variable if variable not in _RESERVED else f"{variable}__synapse"
        plan.units[variable] = (equations[variable]["unit"] if variable in equations else second)
    for variable, eq in equations.items():
        if eq.get("var_type", "float") != "float":
            raise refuse(f"the {eq['var_type']} synaptic variable '{variable}'",
                         "LEMS state variables are real numbers.")
    update = []
    if event_driven:
        try:
            update = event_driven_update(event_driven)
        except Exception as error:  # noqa: BLE001 -- Brian refuses these too
            raise refuse(f"the event-driven equations of {', '.join(sorted(event_driven))}",
                         f"Brian's exact update cannot solve them ({error}).") from None
    pathways = {"pre": [], "post": []}
    for pathway in synapses.get("pathways") or ():
        pathway_name = pathway.get("name") or pathway["prepost"]
        if pathway.get("event", "spike") != "spike":
            raise refuse(f"the pathway '{pathway_name}' triggered by the custom event "
                         f"'{pathway['event']}'")
        if pathway.get("when", "synapses") != "synapses":
            raise refuse(f"the '{pathway_name}' pathway of plastic synapses scheduled in the "
                         f"'{pathway['when']}' slot",
                         "The export reproduces Brian's default schedule of pathways.")
        pathways[pathway["prepost"]].append(pathway)
    for prepost, found in pathways.items():
        if len(found) > 1:
            raise refuse(f"{len(found)} '{prepost}' pathways of plastic synapses",
                         "The export gives a plastic synapse one pathway of each kind.")
    if pathways["pre"] and pathways["post"] and \
            pathways["post"][0].get("order", 1) < pathways["pre"][0].get("order", -1):
        raise refuse("the 'post' pathway of plastic synapses scheduled before the 'pre' "
                     "pathway", "The export reproduces Brian's default order (pre, then post).")
    if pathways["post"]:
        delays = np.asarray(pathways["post"][0].get("delay", 0.0), dtype=float)
        if np.any(delays != 0):
            raise refuse("a delay of the 'post' pathway of plastic synapses",
                          "The synapse sees the post-synaptic spike through the cell's "
                          "lastspike, without a delay.")
    written_by_post = set()
    for prepost in ("pre", "post"):
        if not pathways[prepost]:
            continue
        pathway = pathways[prepost][0]
        pathway_name = pathway.get("name") or prepost
        statements = _pathway_statements(synapses, pathway)
        local = set()  # temporaries of this pathway
        for target, op, expr in statements:
            _check_reads(expr, synaptic, cell_variables, local, plan, clock_driven,
                         written_by_post if prepost == "post" else set(), pathway_name,
                         refuse)
            resolved = _resolve(target, synaptic, cell_variables)
            if resolved is None:
                if target == _LASTUPDATE and event_driven:
                    raise refuse(f"the assignment to 'lastupdate' in the '{pathway_name}' "
                                 "pathway", "Brian sets it itself.")
                if op != "=" and target not in local or target in _RESERVED \
                        or constant_value(target, plan.namespace) is not None:
                    raise refuse(f"the assignment to '{target}' in the '{pathway_name}' "
                                 "pathway")
                # a temporary of the code, as Brian allows (r = u*x; x -= r)
                plan.temporaries[target] = _dimension_of(expr, {**plan.units,
                                                                **plan.temporaries},
                                                         plan.namespace, target, refuse)
                local.add(target)
                continue
            side, variable = resolved
            if side == "pre":
                raise refuse(f"'{target}' (a variable of the pre-synaptic neuron) changed by "
                             f"the '{pathway_name}' pathway of plastic synapses",
                             "The synapse component lives on the post-synaptic cell.")
            if side == "post":
                if plan_delivery(plan, post, variable, op, expr, prepost,
                                 components.get(post["name"]) or {}, refuse) \
                        and variable not in plan.changed:
                    plan.changed.append(variable)
            elif prepost == "post":
                written_by_post.add(variable)
        code = update + statements
        if event_driven:
            code = code + [(_LASTUPDATE, "=", "t")]
        pathways[prepost] = code
    plan.pre, plan.post = pathways["pre"], pathways["post"]
    for variable, expr in clock_driven.items():
        used = identifiers_in(expr)
        for identifier in sorted(used):
            if identifier in synaptic or identifier == "dt":
                continue
            if constant_value(identifier, plan.namespace) is None:
                raise refuse(f"'{identifier}' in the clock-driven equation of '{variable}'",
                             "Clock-driven synaptic equations can use the synapse's own "
                             "variables and constants only.")
        if variable in written_by_post or used & written_by_post:
            raise refuse(f"the clock-driven variable '{variable}' together with the 'post' "
                         "pathway that uses it",
                         "The synapse sees the post-synaptic spike one step after Brian's "
                         "state update; only event-driven variables are exact there.")
    plan.summed = plan_summed_variables(synapses, sides, synaptic, refuse)
    if not plan.changed and plan.delivery is None and not plan.summed:
        raise refuse("plastic synapses whose 'pre' pathway adds to no variable of the "
                     "post-synaptic neurons",
                     "The export attaches such synapses to the variable they add to.")
    _plan_initial_values(synapses, plan, refuse)
    logger.debug(f"'{name}': plastic synapses with the state {sorted(plan.state)}, adding to "
                 f"{plan.changed} of '{plan.group}'")
    return plan


def _check_reads(expr: str, synaptic: set, cell_variables: Mapping, local: set,
                 plan: PlasticSynapses, clock_driven: Mapping, read_by_post: set,
                 pathway_name: str, refuse) -> None:
    """Refuse what a pathway's expression reads that a synapse cannot provide."""
    for identifier in sorted(identifiers_in(expr)):
        used = _resolve(identifier, synaptic, cell_variables)
        if used is not None and used[0] != "syn":
            raise refuse(f"'{identifier}' (a neuron's variable) read in the "
                         f"'{pathway_name}' pathway of plastic synapses",
                         "Plastic synapses can use their own variables and constants only.")
        if used is None and identifier not in ("t", _LASTUPDATE, "dt") \
                and identifier not in local \
                and constant_value(identifier, plan.namespace) is None:
            raise refuse(f"'{identifier}' in the '{pathway_name}' pathway",
                         "Plastic synapses can use their own variables and constants only."
                         if identifier in _INTERNALS else None)
        if used is not None and used[1] in clock_driven:
            read_by_post.add(used[1])


def _dimension_of(expr: str, units: Mapping, namespace: Mapping, name: str, refuse):
    """One unit (a Quantity of value 1, or 1.0) of the dimensions of an expression."""
    from brian2 import Quantity, get_dimensions

    values = {}
    for identifier in identifiers_in(expr):
        if identifier in units:
            values[identifier] = Quantity(1.0, dim=get_dimensions(units[identifier]))
        elif identifier in ("t", "dt"):
            values[identifier] = 1.0 * second
        else:
            values[identifier] = constant_value(identifier, namespace)
    functions = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs,
                 "clip": np.clip, "sin": np.sin, "cos": np.cos, "tanh": np.tanh}
    try:
        with np.errstate(all="ignore"):
            result = eval(compile(expr, "<temporary>", "eval"),  # noqa: S307 -- Brian code
                          {"__builtins__": {}}, {**functions, **values})
    except Exception as error:  # noqa: BLE001 -- reported as unsupported
        raise refuse(f"the temporary '{name} = {expr}'",
                     f"Its unit could not be determined ({error}).") from None
    dimensions = get_dimensions(result)
    return 1.0 if dimensions.is_dimensionless else Quantity(1.0, dim=dimensions)


def _plan_initial_values(synapses: Mapping, plan: PlasticSynapses, refuse) -> None:
    values = synapses.get("initial_values") or {}
    n_synapses = len(synapses.get("i", ())) or None
    varying = []
    for variable in plan.state:
        given = values.get(variable)
        if given is None:
            plan.initial[variable] = 0.0
            continue
        array = np.asarray(given, dtype=float).ravel()
        if n_synapses is not None and array.size not in (1, n_synapses):
            raise refuse(f"the initial values of '{variable}'")
        if array.size == 0 or np.all(array == array[0]):
            plan.initial[variable] = float(array[0]) if array.size else 0.0
        else:
            varying.append(variable)
    if len(varying) > 1:
        raise refuse(f"different initial values in each synapse for "
                     f"{', '.join(repr(v) for v in varying)}",
                     "A NeuroML connection carries one value per synapse (its weight); set "
                     "all but one of these variables to the same value in every synapse.")
    plan.weighted = varying[0] if varying else None
