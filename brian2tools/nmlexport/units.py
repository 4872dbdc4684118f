"""
Physical dimensions and quantities in LEMS.

LEMS checks the dimensions of every expression, and it knows a quantity only
by the name of a ``Dimension`` (``voltage``, ``time``, ...) and the symbol of a
``Unit`` (``V``, ``s``, ...). This module translates Brian's dimensions into
these names: the dimensions that NeuroML2's core types already define are
reused, any other one (``volt/second``, ...) gets a ``Dimension`` and an SI
``Unit`` of its own that the exporter adds to the model file.

Values are written in the natural unit of their quantity (``20 mV``,
``10 ms``, ``0.5 nA``), as NeuroML2 declares it, with the shortest decimal
that converts back to exactly Brian's float (whether a reader multiplies by
the unit's power of ten or divides by its inverse); a value that no decimal
in the natural unit reproduces exactly is written in SI units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from brian2 import Quantity, get_dimensions
from brian2.core.namespace import DEFAULT_UNITS
from brian2.units.fundamentalunits import DIMENSIONLESS, Dimension, get_unit

from brian2tools.baseexport import UnsupportedFeatureError

__all__ = [
    "LEMSDimension",
    "lems_dimension",
    "format_number",
    "format_quantity",
    "format_in_unit",
    "parse_quantity",
    "brian_dimension",
    "constant_value",
    "units_constants_xml",
    "LEMS_UNITS_CONSTANTS_FILE",
]

#: Default name of the file of unit constants written next to every model.
LEMS_UNITS_CONSTANTS_FILE = "LEMSUnitsConstants.xml"

# Exponents in LEMS's order: length, mass, time, current, temperature,
# amount of substance, luminous intensity (LEMS attributes l, m, t, i, k, n, j);
# this is also the order of Brian's Dimension._dims.
_EXPONENT_NAMES = ("l", "m", "t", "i", "k", "n", "j")

# The dimensions declared by NeuroML2CoreTypes/NeuroMLCoreDimensions.xml with
# the symbol of their SI unit (power 0, scale 1) declared in the same file.
_CORE_DIMENSIONS = {
    (0, 0, 1, 0, 0, 0, 0): ("time", "s"),
    (0, 0, -1, 0, 0, 0, 0): ("per_time", "per_s"),
    (2, 1, -3, -1, 0, 0, 0): ("voltage", "V"),
    (-2, -1, 3, 1, 0, 0, 0): ("per_voltage", "per_V"),
    (-2, -1, 3, 2, 0, 0, 0): ("conductance", "S"),
    (-4, -1, 3, 2, 0, 0, 0): ("conductanceDensity", "S_per_m2"),
    (-2, -1, 4, 2, 0, 0, 0): ("capacitance", "F"),
    (-4, -1, 4, 2, 0, 0, 0): ("specificCapacitance", "F_per_m2"),
    (2, 1, -3, -2, 0, 0, 0): ("resistance", "ohm"),
    (2, 2, -3, -2, 0, 0, 0): ("resistivity", "ohm_m"),
    (0, 0, 1, 1, 0, 0, 0): ("charge", "C"),
    (0, 0, 1, 1, 0, -1, 0): ("charge_per_mole", "C_per_mol"),
    (0, 0, 0, 1, 0, 0, 0): ("current", "A"),
    (-2, 0, 0, 1, 0, 0, 0): ("currentDensity", "A_per_m2"),
    (1, 0, 0, 0, 0, 0, 0): ("length", "m"),
    (2, 0, 0, 0, 0, 0, 0): ("area", "m2"),
    (3, 0, 0, 0, 0, 0, 0): ("volume", "m3"),
    (-3, 0, 0, 0, 0, 1, 0): ("concentration", "mol_per_m3"),
    (0, 0, 0, 0, 0, 1, 0): ("substance", "mol"),
    (1, 0, -1, 0, 0, 0, 0): ("permeability", "m_per_s"),
    (0, 0, 0, 0, 1, 0, 0): ("temperature", "K"),
    (2, 1, -2, 0, -1, -1, 0): ("idealGasConstantDims", "J_per_K_per_mol"),
    (-4, -2, 6, 3, 0, 0, 0): ("conductance_per_voltage", "S_per_V"),
    (-1, 0, -1, -1, 0, 1, 0): ("rho_factor", "mol_per_m_per_A_per_s"),
}
_CORE_BY_NAME = {name: exponents for exponents, (name, _) in _CORE_DIMENSIONS.items()}

# Unit constants of LEMSUnitsConstants.xml: the units Brian scripts use most.
_UNIT_CONSTANT_NAMES = (
    "second", "ms", "us", "Hz", "kHz",
    "volt", "mV",
    "amp", "mA", "uA", "nA", "pA",
    "siemens", "mS", "uS", "nS",
    "farad", "uF", "nF", "pF",
    "ohm", "kohm", "Mohm", "Gohm",
    "metre", "cm", "mm", "um",
    "mole", "mM", "uM",
)


@dataclass(frozen=True)
class LEMSDimension:
    """
    How LEMS names one physical dimension.

    Attributes
    ----------
    name : str
        The ``Dimension`` name (``'none'`` for dimensionless quantities).
    unit : str
        Symbol of the SI unit of this dimension (``''`` when dimensionless).
    exponents : tuple of int
        Exponents of length, mass, time, current, temperature, amount and
        luminous intensity.
    is_core : bool
        Whether NeuroML2's core types already declare the dimension and its
        unit (otherwise the model file has to declare them).
    """

    name: str
    unit: str
    exponents: tuple
    is_core: bool

    def dimension_attributes(self) -> dict:
        """
        The non-zero exponents as LEMS ``Dimension`` attributes.

        Returns
        -------
        dict
            Attribute name -> exponent as a string, e.g. ``{'t': '-1'}``.
        """
        return {
            key: str(exponent)
            for key, exponent in zip(_EXPONENT_NAMES, self.exponents, strict=True)
            if exponent
        }


_DIMENSIONLESS = LEMSDimension("none", "", (0,) * 7, True)


def _integer_exponents(dimension: Dimension, owner: str) -> tuple:
    exponents = []
    for exponent in dimension._dims:
        if exponent != int(exponent):
            raise UnsupportedFeatureError(
                owner, f"the dimension {dimension} (a fractional exponent)",
                "LEMS dimensions have integer exponents.",
            )
        exponents.append(int(exponent))
    return tuple(exponents)


def lems_dimension(value, owner: str = "model") -> LEMSDimension:
    """
    The LEMS dimension of a Brian unit, quantity or dimension.

    Parameters
    ----------
    value : Unit, Quantity, Dimension, float or int
        Anything Brian can give dimensions for.
    owner : str, optional
        Named in the error message when the dimension cannot be described.

    Returns
    -------
    LEMSDimension
        The core NeuroML2 dimension when there is one, otherwise a generated
        name such as ``'dim_l2_m1_t-4_i-1'`` (with unit ``'SI_dim_l2_m1_t-4_i-1'``).

    Raises
    ------
    UnsupportedFeatureError
        For dimensions with fractional exponents.

    Examples
    --------
    >>> from brian2tools.nmlexport.units import lems_dimension
    >>> from brian2 import mV, ms
    >>> lems_dimension(mV).name
    'voltage'
    >>> lems_dimension(mV / ms).name
    'dim_l2_m1_t-4_i-1'
    """
    dimension = value if isinstance(value, Dimension) else get_dimensions(value)
    if dimension is DIMENSIONLESS:
        return _DIMENSIONLESS
    exponents = _integer_exponents(dimension, owner)
    if not any(exponents):
        return _DIMENSIONLESS
    if exponents in _CORE_DIMENSIONS:
        name, unit = _CORE_DIMENSIONS[exponents]
        return LEMSDimension(name, unit, exponents, True)
    name = "dim_" + "_".join(
        f"{key}{exponent}" for key, exponent in zip(_EXPONENT_NAMES, exponents, strict=True) if exponent
    )
    return LEMSDimension(name, "SI_" + name, exponents, False)


def format_number(value, owner: str = "model") -> str:
    """
    A plain number as LEMS reads it, exactly (shortest round-trip repr).

    Parameters
    ----------
    value : float, int, numpy scalar or dimensionless Quantity
    owner : str, optional
        Named in the error message for values LEMS cannot represent.

    Returns
    -------
    str

    Raises
    ------
    UnsupportedFeatureError
        For infinite or NaN values, which LEMS cannot represent.

    Examples
    --------
    >>> from brian2tools.nmlexport.units import format_number
    >>> format_number(0.1), format_number(3), format_number(1e-5)
    ('0.1', '3', '1e-05')
    """
    if isinstance(value, (bool, np.bool_)):
        return "1" if value else "0"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    number = float(value)
    if not math.isfinite(number):
        raise UnsupportedFeatureError(owner, f"the value {number}", "LEMS has no infinite values.")
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


# Units of NeuroMLCoreDimensions.xml with a power of ten of the SI unit, by
# SI symbol, from the largest to the smallest: the natural units of values.
_SCALED_UNITS = {
    "s": (("s", 0), ("ms", -3)),
    "V": (("V", 0), ("mV", -3)),
    "S": (("S", 0), ("mS", -3), ("uS", -6), ("nS", -9), ("pS", -12)),
    "F": (("F", 0), ("uF", -6), ("nF", -9), ("pF", -12)),
    "A": (("A", 0), ("uA", -6), ("nA", -9), ("pA", -12)),
    "ohm": (("Mohm", 6), ("kohm", 3), ("ohm", 0)),
    "m": (("m", 0), ("cm", -2), ("um", -6)),
    "m2": (("m2", 0), ("cm2", -4), ("um2", -12)),
    "S_per_m2": (("S_per_cm2", 4), ("mS_per_cm2", 1), ("S_per_m2", 0), ("uS_per_cm2", -2)),
    "F_per_m2": (("F_per_m2", 0), ("uF_per_cm2", -2)),
    "ohm_m": (("kohm_cm", 1), ("ohm_m", 0), ("ohm_cm", -2)),
    "A_per_m2": (("mA_per_cm2", 1), ("A_per_m2", 0), ("uA_per_cm2", -2)),
}
#: power of ten of every scaled unit symbol, for reading values back
_UNIT_POWERS = {symbol: power for units in _SCALED_UNITS.values() for symbol, power in units}


def _exact_decimal(number: float, power: int) -> str | None:
    """
    The shortest decimal ``x`` with ``x * 10**power`` exactly ``number``.

    jLEMS converts a value into SI units by multiplying it by
    ``Math.pow(10, power)``; that is the conversion checked. Among the
    decimals that pass, one that also passes the division by ``10**-power``
    (as other readers may convert) is preferred.
    """
    if power == 0:
        return repr(number)
    factor = 10.0 ** power
    candidate = number / factor if power > 0 else number * 10.0 ** -power
    best, best_key = None, None
    for step in (0, 1, -1, 2, -2, 3, -3):
        guess = candidate
        for _ in range(abs(step)):
            guess = math.nextafter(guess, math.inf if step > 0 else -math.inf)
        text = repr(guess)
        value = float(text)
        if value * factor != number:
            continue
        divided = value / 10.0 ** -power if power < 0 else value * factor
        key = (divided != number, len(text))
        if best_key is None or key < best_key:
            best, best_key = text, key
    return best


def format_in_unit(number: float, si_unit: str) -> str:
    """
    A value given in SI units, written exactly in its natural unit.

    Parameters
    ----------
    number : float
        The value in SI units.
    si_unit : str
        The symbol of the SI unit (``'V'``, ``'s'``, ...); ``''`` for
        dimensionless values.

    Returns
    -------
    str
        ``'<number> <unit>'``, e.g. ``'20 mV'``; integers without a decimal
        point; SI units where no natural unit is known or exact.

    Examples
    --------
    >>> from brian2tools.nmlexport.units import format_in_unit
    >>> format_in_unit(0.02, 'V'), format_in_unit(0.0001, 's'), format_in_unit(0, 'V')
    ('20 mV', '0.1 ms', '0 V')
    >>> format_in_unit(0.00020202020202020202, 'V')
    '0.20202020202020202 mV'
    """
    number = float(number)
    if not si_unit:
        return _plain(number)
    units = _SCALED_UNITS.get(si_unit)
    if not units or number == 0 or not math.isfinite(number):
        return f"{_plain(number)} {si_unit}"
    magnitude = abs(number)
    # the natural unit: the largest in which the value is at least 1 (the
    # smallest one otherwise); where no decimal in it converts back exactly
    # (multiplying by 1e-9 skips some floats), the nearest other unit
    natural = next((position for position, (_, pw) in enumerate(units)
                    if magnitude >= 10.0 ** pw * (1 - 1e-12)), len(units) - 1)
    order = sorted(range(len(units)), key=lambda position: abs(position - natural))
    for position in order:
        symbol, power = units[position]
        text = _exact_decimal(number, power)
        if text is not None:
            break
    else:
        return f"{_plain(number)} {si_unit}"
    value = float(text)
    if value == int(value) and abs(value) < 1e15:
        text = str(int(value))
    return f"{text} {symbol}"


def _plain(number: float) -> str:
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def parse_quantity(text: str) -> float:
    """
    A LEMS value string written by the exporter, in SI units.

    Parameters
    ----------
    text : str
        ``'<number>'`` or ``'<number> <unit symbol>'``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For a unit the exporter does not write.

    Examples
    --------
    >>> from brian2tools.nmlexport.units import parse_quantity
    >>> parse_quantity('20 mV'), parse_quantity('0.5')
    (0.02, 0.5)

    Values are converted as jLEMS converts them (multiplied by the unit's
    power of ten), so a value written by `format_in_unit` reads back as
    exactly the float it was written from.
    """
    parts = text.split()
    number = float(parts[0])
    if len(parts) == 1:
        return number
    symbol = parts[1]
    if symbol in _UNIT_POWERS:
        return number * 10.0 ** _UNIT_POWERS[symbol]  # as jLEMS converts
    if symbol.startswith("SI_") or symbol in {"Hz", "per_s", "mol_per_m3", "mol", "K", "C"}:
        return number
    raise ValueError(f"Unknown unit {symbol!r} in {text!r}")


def format_quantity(value, dimension: LEMSDimension | None = None) -> str:
    """
    A quantity in SI units as a LEMS value string (``'0.01 s'``, ``'0.5'``).

    Parameters
    ----------
    value : Quantity, float or int
        The value.
    dimension : LEMSDimension, optional
        Its dimension (determined from ``value`` if not given).

    Returns
    -------
    str

    Examples
    --------
    >>> from brian2tools.nmlexport.units import format_quantity
    >>> from brian2 import ms
    >>> format_quantity(10 * ms)
    '10 ms'
    """
    if dimension is None:
        dimension = lems_dimension(value)
    number = np.asarray(value, dtype=float).item() if isinstance(value, Quantity) else value
    if not dimension.unit:
        return format_number(number)
    format_number(number)  # refuses infinite values
    return format_in_unit(number, dimension.unit)


def brian_dimension(name: str, declared: dict | None = None) -> Dimension:
    """
    The Brian dimension for a LEMS dimension name.

    Parameters
    ----------
    name : str
        A core NeuroML2 dimension name, ``'none'``, or a name declared in the
        model file.
    declared : dict, optional
        Dimensions declared in the model file: name -> dict of exponent
        attributes (``{'l': '2', 'm': '1', ...}``).

    Returns
    -------
    Dimension

    Raises
    ------
    KeyError
        For a name that is neither core nor declared.

    Examples
    --------
    >>> from brian2tools.nmlexport.units import brian_dimension
    >>> brian_dimension('voltage')
    metre ** 2 * kilogram * second ** -3 * amp ** -1
    """
    from brian2.units.fundamentalunits import get_or_create_dimension

    if name == "none":
        return DIMENSIONLESS
    if name in _CORE_BY_NAME:
        exponents = _CORE_BY_NAME[name]
    elif declared is not None and name in declared:
        attributes = declared[name]
        exponents = tuple(int(float(attributes.get(key, 0))) for key in _EXPONENT_NAMES)
    else:
        raise KeyError(f"unknown LEMS dimension {name!r}")
    return get_or_create_dimension(exponents)


def units_constants_xml() -> str:
    """
    The text of ``LEMSUnitsConstants.xml``: common Brian units as LEMS constants.

    Top-level LEMS constants hold plain SI numbers, e.g.
    ``<Constant name="mV" dimension="voltage" value="0.001"/>``. The exported
    models define the constants their expressions use inside their own
    component types (which is where jNeuroML looks for them); this file is
    included for hand-written LEMS that refers to units by their Brian names.

    Returns
    -------
    str
        The same text for every model.

    Examples
    --------
    >>> from brian2tools.nmlexport.units import units_constants_xml
    >>> 'name="mV"' in units_constants_xml()
    True
    """
    import brian2.units as brian_units

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<Lems>"]
    for name in _UNIT_CONSTANT_NAMES:
        unit = getattr(brian_units, name)
        dimension = lems_dimension(unit)
        lines.append(
            f'  <Constant name="{name}" symbol="{name}" dimension="{dimension.name}" '
            f'value="{format_number(float(unit))}"/>'
        )
    lines.append("</Lems>")
    return "\n".join(lines) + "\n"


def brian_unit(dimension: Dimension):
    """The Brian unit to display a dimension in (``volt`` for voltage, ``1`` if none)."""
    if dimension is DIMENSIONLESS:
        return 1
    return get_unit(dimension)


def constant_value(identifier: str, namespace):
    """
    The value of a constant Brian code uses: from the namespace, else a unit name.

    Parameters
    ----------
    identifier : str
        The name in the code.
    namespace : mapping
        The object's namespace (explicit or resolved at ``run()``).

    Returns
    -------
    object or None
        The value, or None if the name is neither in the namespace nor a unit.

    Examples
    --------
    >>> from brian2 import ms
    >>> constant_value('tau', {'tau': 5*ms}), constant_value('mV', {}), constant_value('v', {})
    (5. * msecond, mvolt, None)
    """
    if identifier in namespace:
        return namespace[identifier]
    return DEFAULT_UNITS.get(identifier)
