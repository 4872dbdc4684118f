"""
The membrane current of a `SpatialNeuron` as NeuroML ion channels.

`membrane_channels` splits ``Im`` into its terms; each term must read
``gbar * x**p * y**q ... * (E - v)``: a conductance density (parameters,
constants), gating variables (differential equations ``dx/dt = alpha*(1-x) -
beta*x``, or anything linear in ``x``) and a driving force. A term without
gates becomes a passive channel, a term with gates a Hodgkin-Huxley channel
whose gates have the forward and reverse rates of ``x``'s equation. A rate
becomes NeuroML's ``HHExpRate``, ``HHSigmoidRate`` or ``HHExpLinearRate``
when it is exactly one of them (checked on a voltage grid); other rates are
refused by name. Everything is evaluated in SI units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy
from brian2.core.functions import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS
from brian2.core.namespace import DEFAULT_UNITS
from brian2.parsing.sympytools import str_to_sympy
from brian2.utils.logger import get_logger

from brian2tools.baseexport import UnsupportedFeatureError

__all__ = ["Gate", "Channel", "SpatialModel", "membrane_channels"]

logger = get_logger(__name__)

_V_GRID = np.linspace(-0.15, 0.15, 601)  # volt: where rates must agree exactly
_RTOL = 1e-7


@dataclass
class Gate:
    """
    A gating variable of a channel.

    Parameters
    ----------
    name : str
        The Brian variable (``'m'``).
    power : int
        Its power in the channel's term (NeuroML's ``instances``).
    forward, reverse : dict
        The NeuroML rates: ``{'type': 'HHExpRate', 'rate': 1/s, 'midpoint': V,
        'scale': V}``.
    steady_state : callable
        ``alpha/(alpha+beta)`` as a function of v (in volt).
    """

    name: str
    power: int
    forward: dict
    reverse: dict
    steady_state: object = None  # function of v (volt) -> alpha/(alpha+beta)


@dataclass
class Channel:
    """
    One term of ``Im`` as an ion channel.

    Parameters
    ----------
    term : str
        The term as Brian wrote it (``'gL*(EL - v)'``).
    gbar : numpy.ndarray
        The conductance density per compartment (S/m²).
    erev : numpy.ndarray
        The reversal potential per compartment (V).
    gates : list of Gate
        The gates (empty for a passive channel).
    """

    term: str
    gbar: np.ndarray
    erev: np.ndarray
    gates: list = field(default_factory=list)


def _symbol_values(description: dict) -> dict:
    """Name -> SI float (or per-compartment array) of every name an expression can use."""
    values = {name: float(unit) for name, unit in DEFAULT_UNITS.items()}
    values.update({name: float(constant.value) for name, constant in DEFAULT_CONSTANTS.items()})
    for name, value in description["namespace"].items():
        if isinstance(value, dict):  # a TimedArray (see .spatial_timed)
            continue
        values[name] = np.asarray(value, dtype=float)
    for name, value in (description["initial_values"] or {}).items():
        values[name] = np.asarray(value, dtype=float)
    for name in ("Cm",):
        values[name] = np.asarray(description["Cm"], dtype=float)
    return values


def _numeric_functions():
    functions = {name: function.pyfunc for name, function in DEFAULT_FUNCTIONS.items()
                 if getattr(function, "pyfunc", None) is not None}
    functions["exprel"] = lambda x: np.where(np.abs(x) < 1e-12, 1.0, np.expm1(x) / np.where(
        np.abs(x) < 1e-12, 1.0, x))
    return functions


class SpatialModel:
    """
    The equations of a spatial neuron as sympy expressions, to evaluate in SI units.

    Parameters
    ----------
    description : dict
        The description of a `SpatialNeuron`.

    Examples
    --------
    >>> model = SpatialModel({'name': 'n', 'namespace': {}, 'initial_values': {},
    ...                       'Cm': [0.01], 'equations': []})
    >>> from brian2.parsing.sympytools import str_to_sympy
    >>> float(model.evaluate(str_to_sympy('2*mV')))
    0.002
    """

    def __init__(self, description: dict):
        self.name = description["name"]
        self.values = _symbol_values(description)
        self.subexpressions = {}
        self.gates = {}
        for eq in description["equations"]:
            if eq["type"] == "subexpression" and eq["name"] != "Im":
                self.subexpressions[eq["name"]] = str_to_sympy(eq["expr"])
            elif eq["type"] == "differential equation":
                self.gates[eq["name"]] = str_to_sympy(eq["expr"])
        self.functions = _numeric_functions()

    def substituted(self, expr):
        """
        ``expr`` with the subexpressions replaced by their expressions.

        Parameters
        ----------
        expr : sympy.Expr

        Returns
        -------
        sympy.Expr
        """
        for _ in range(len(self.subexpressions) + 1):
            replace = {symbol: self.subexpressions[symbol.name] for symbol in expr.free_symbols
                       if symbol.name in self.subexpressions}
            if not replace:
                return expr
            expr = expr.xreplace(replace)
        return expr

    def names(self, expr) -> set:
        """
        The names of the symbols in ``expr``.

        Parameters
        ----------
        expr : sympy.Expr

        Returns
        -------
        set of str
        """
        return {symbol.name for symbol in expr.free_symbols}

    def evaluate(self, expr, extra=None):
        """
        The value of ``expr`` in SI units, per compartment.

        Parameters
        ----------
        expr : sympy.Expr
            The expression.
        extra : dict, optional
            Values that replace the neuron's (e.g. a grid of ``v``).

        Returns
        -------
        numpy.ndarray

        Raises
        ------
        UnsupportedFeatureError
            If a name is neither a constant nor a parameter.
        """
        symbols = sorted(expr.free_symbols, key=lambda symbol: symbol.name)
        values = dict(self.values)
        values.update(extra or {})
        missing = [symbol.name for symbol in symbols if symbol.name not in values]
        if missing:
            raise UnsupportedFeatureError(self.name, f"the name(s) {', '.join(missing)} in "
                                          f"'{expr}' (not a constant or parameter)")
        function = sympy.lambdify(symbols, expr, modules=[self.functions, "numpy"])
        return np.asarray(function(*[values[symbol.name] for symbol in symbols]), dtype=float)


def _linear_factor(term, v):
    """The factor of ``term`` that holds ``v``, if it is linear in it; and the other factors."""
    with_v = [factor for factor in sympy.Mul.make_args(term) if v in factor.free_symbols]
    if len(with_v) != 1:
        return None, None
    factor = with_v[0]
    slope = sympy.diff(factor, v)
    if v in slope.free_symbols:
        return None, None
    rest = sympy.Mul(*[f for f in sympy.Mul.make_args(term) if f is not factor])
    return factor, rest


def _match_rate(model: SpatialModel, expr, where: str) -> dict:
    """The ``HHRate`` keyword arguments of a rate ``expr`` (per second) of ``v`` (volt)."""
    rates = model.evaluate(expr, {"v": _V_GRID})
    if rates.shape != _V_GRID.shape:
        rates = np.broadcast_to(rates, _V_GRID.shape)
    checks = []
    # exprel(a*v + b) * K  ->  HHExpLinearRate with x = -(a*v + b)
    for atom in expr.atoms(sympy.Function):
        if atom.func.__name__ == "exprel" and len(atom.args) == 1:
            argument = atom.args[0]
            slope = model.evaluate(sympy.diff(argument, _v_symbol(argument)), {"v": 0.0}) \
                if _v_symbol(argument) is not None else 0.0
            if float(slope) == 0:
                continue
            offset = float(model.evaluate(argument.xreplace({_v_symbol(argument): 0}), {}))
            scale, midpoint = -1.0 / float(slope), -offset / float(slope)
            x = (_V_GRID - midpoint) / scale
            away = np.abs(x) > 1e-6
            shape = np.ones_like(x)
            shape[away] = x[away] / -np.expm1(-x[away])
            rate = float(np.median(rates[away] / shape[away]))
            checks.append(({"type": "HHExpLinearRate", "rate": rate, "midpoint": midpoint,
                            "scale": scale}, rate * shape))
    if np.all(rates > 0):
        logs = np.log(rates)
        slope, intercept = np.polyfit(_V_GRID, logs, 1)
        if slope != 0:
            checks.append(({"type": "HHExpRate", "rate": float(np.exp(intercept)), "midpoint": 0.0,
                            "scale": 1.0 / float(slope)}, np.exp(intercept + slope * _V_GRID)))
        inverse = 1.0 / rates
        g0, g1, g2 = inverse[0], inverse[300], inverse[600]
        denominator = g0 + g2 - 2 * g1
        if denominator != 0:
            floor = (g0 * g2 - g1 ** 2) / denominator
            rest = inverse - floor
            if floor > 0 and np.all(rest > 0):
                slope, intercept = np.polyfit(_V_GRID, np.log(rest), 1)
                if slope != 0:
                    rate, scale = 1.0 / floor, -1.0 / float(slope)
                    midpoint = scale * (float(intercept) + np.log(rate))
                    checks.append(({"type": "HHSigmoidRate", "rate": rate, "midpoint": midpoint,
                                    "scale": scale},
                                   rate / (1 + np.exp(-(_V_GRID - midpoint) / scale))))
    for kwargs, candidate in checks:
        if np.allclose(candidate, rates, rtol=_RTOL, atol=1e-12 * np.max(np.abs(rates))):
            return kwargs
    raise UnsupportedFeatureError(
        model.name, f"the rate {where} = {expr} (not an exponential, sigmoid or exp-linear "
        "rate of v, HHExpRate/HHSigmoidRate/HHExpLinearRate in NeuroML)")


def _v_symbol(expr):
    """The symbol ``v`` of an expression, or None."""
    return next((symbol for symbol in expr.free_symbols if symbol.name == "v"), None)


def _gate(model: SpatialModel, name: str, power: int) -> Gate:
    x = sympy.Symbol(name, real=True)
    rhs = model.substituted(model.gates[name])
    x = next((symbol for symbol in rhs.free_symbols if symbol.name == name), x)
    forward = sympy.expand(rhs.xreplace({x: 0}))
    total = -sympy.diff(rhs, x)
    if x in total.free_symbols or model.names(forward) & set(model.gates):
        raise UnsupportedFeatureError(
            model.name, f"the gating equation d{name}/dt = {model.gates[name]} (not of the "
            f"form alpha*(1-{name}) - beta*{name} with rates of v alone)")
    reverse = sympy.simplify(total - forward) if not isinstance(total, sympy.Number) else \
        total - forward
    reverse_rate = model.substituted(sympy.sympify(reverse))
    alpha = model.substituted(forward)
    for rate, kind in ((alpha, "alpha"), (reverse_rate, "beta")):
        others = model.names(rate) - {"v"} - set(model.values)
        if others:
            raise UnsupportedFeatureError(
                model.name, f"the {kind} rate of '{name}' ({rate}), which depends on "
                f"{', '.join(sorted(others))} (NeuroML HH rates depend on v only)")

    def steady_state(voltage, alpha=alpha, beta=reverse_rate):
        a = model.evaluate(alpha, {"v": np.asarray(voltage, dtype=float)})
        b = model.evaluate(beta, {"v": np.asarray(voltage, dtype=float)})
        return a / (a + b)

    return Gate(name, power, _match_rate(model, alpha, f"alpha of '{name}'"),
                _match_rate(model, reverse_rate, f"beta of '{name}'"), steady_state)


def membrane_channels(description: dict) -> list[Channel]:
    """
    The ion channels of a spatial neuron's membrane current ``Im``.

    Parameters
    ----------
    description : dict
        The description of a `SpatialNeuron` (an entry of ``'spatialneurons'``).

    Returns
    -------
    list of Channel
        One per term of ``Im``, with ``gbar`` (S/m²) and ``erev`` (V) per
        compartment and the gates (empty for a passive channel).

    Raises
    ------
    UnsupportedFeatureError
        Naming the term of ``Im``, gating equation or rate that has no
        NeuroML channel equivalent.

    Examples
    --------
    >>> from brian2 import Soma, SpatialNeuron, Network, ms, mV, uF, cm, um, msiemens
    >>> from brian2tools.baseexport import collect_network
    >>> neuron = SpatialNeuron(Soma(diameter=20*um), 'Im = gL*(EL - v) : amp/meter**2',
    ...                        Cm=1*uF/cm**2, namespace={'EL': -70*mV, 'gL': 0.1*msiemens/cm**2})
    >>> run = collect_network(Network(neuron), 1*ms, {})
    >>> [(channel.term, float(channel.gbar[0]), float(channel.erev[0]))
    ...  for channel in membrane_channels(run['spatialneurons'][0])]
    [('gL*(EL - v)', 1.0, -0.07)]
    """
    model = SpatialModel(description)
    membrane = model.substituted(str_to_sympy(description["membrane_current"]))
    v = _v_symbol(membrane)
    n = int(description["N"])
    channels = []
    for term in sympy.Add.make_args(membrane):
        text = str(term)
        factor, rest = _linear_factor(term, v) if v is not None else (None, None)
        if factor is None:
            raise UnsupportedFeatureError(
                model.name, f"the term '{text}' of Im (not a conductance times (E - v))")
        slope = sympy.diff(factor, v)
        reversal = -factor.xreplace({v: 0}) / slope
        gates = []
        conductance = []
        for part in sympy.Mul.make_args(rest * -slope):
            base, power = part.as_base_exp()
            if isinstance(base, sympy.Symbol) and base.name in model.gates:
                if not (power.is_Integer and int(power) > 0):
                    raise UnsupportedFeatureError(
                        model.name, f"the gate power {part} in the term '{text}' of Im")
                gates.append((base.name, int(power)))
            else:
                conductance.append(part)
        gbar_expr = sympy.Mul(*conductance)
        if model.names(gbar_expr) & set(model.gates) or model.names(reversal) & set(model.gates):
            raise UnsupportedFeatureError(
                model.name, f"the term '{text}' of Im (gating variables outside a product)")
        gbar = np.broadcast_to(model.evaluate(gbar_expr), (n,)).copy()
        erev = np.broadcast_to(model.evaluate(reversal), (n,)).copy()
        channels.append(Channel(text, gbar, erev, [_gate(model, name, power)
                                                   for name, power in gates]))
    return channels
