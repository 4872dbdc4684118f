"""
NeuroML quantities as Brian quantities.

NeuroML writes a physical value as a number followed by a unit symbol, with
or without a space: ``"-65mV"``, ``"120.0 mS_per_cm2"``, ``"0.1 kohm_cm"``,
``"1per_ms"``. A symbol is a product of unit tokens separated by ``_``; the
token ``per`` puts the following tokens in the denominator. Every token is an
SI prefix (or none) followed by a base unit and an optional integer power
(``cm2``). `nml_quantity` reads such a string into a Brian `Quantity`.
"""

from __future__ import annotations

import re

from brian2 import (
    Quantity,
    amp,
    coulomb,
    farad,
    gram,
    hertz,
    kelvin,
    meter,
    mole,
    ohm,
    second,
    siemens,
    volt,
)
from brian2.units.allunits import liter, molar

from .validation import NMLImportError

__all__ = ["nml_quantity"]

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")

_BASE_UNITS = {
    "S": siemens, "F": farad, "V": volt, "A": amp, "ohm": ohm, "m": meter, "g": gram,
    "s": second, "mol": mole, "M": molar, "L": liter, "l": liter, "Hz": hertz, "C": coulomb,
    "K": kelvin,
}
_PREFIXES = {"T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3, "c": 1e-2, "m": 1e-3, "u": 1e-6,
             "n": 1e-9, "p": 1e-12, "f": 1e-15}
_TOKEN = re.compile(r"^([A-Za-z]+?)(\d*)$")


def _token_value(token: str, text: str):
    match = _TOKEN.match(token)
    if match is None:
        raise NMLImportError(f"Unknown unit {token!r} in the NeuroML value {text!r}.")
    name, power = match.group(1), int(match.group(2) or 1)
    if name in _BASE_UNITS:  # whole names first: 'mol' is mole, not milli-'ol'
        unit = _BASE_UNITS[name]
    elif len(name) > 1 and name[0] in _PREFIXES and name[1:] in _BASE_UNITS:
        unit = _PREFIXES[name[0]] * _BASE_UNITS[name[1:]]
    else:
        raise NMLImportError(f"Unknown unit {token!r} in the NeuroML value {text!r}.")
    return unit**power


def nml_quantity(text) -> Quantity:
    """
    Read a NeuroML value with its unit into a Brian quantity.

    Parameters
    ----------
    text : str
        The value as NeuroML writes it, e.g. ``"120.0 mS_per_cm2"``,
        ``"-65mV"`` or ``"0.1 kohm_cm"``. A number without a unit gives a
        dimensionless value.

    Returns
    -------
    value : `Quantity`
        The value in Brian's units.

    Raises
    ------
    NMLImportError
        If the text is not a number followed by a known NeuroML unit.

    Examples
    --------
    >>> from brian2 import cm, msiemens, ohm
    >>> float(nml_quantity("120.0 mS_per_cm2") / (msiemens / cm**2))
    120.0
    >>> print(nml_quantity("-65mV"))
    -65. mV
    >>> float(nml_quantity("0.1 kohm_cm") / (ohm * cm))
    100.0
    """
    if text is None:
        raise NMLImportError("A NeuroML value is missing (None).")
    text = str(text)
    match = _NUMBER.match(text)
    if match is None:
        raise NMLImportError(f"The NeuroML value {text!r} does not start with a number.")
    value = float(match.group(1))
    symbol = match.group(2)
    if not symbol:
        return Quantity(value)
    numerator = True
    unit = Quantity(1.0)
    for token in symbol.split("_"):
        if token == "per":
            numerator = False
            continue
        factor = _token_value(token, text)
        unit = unit * factor if numerator else unit / factor
    return Quantity(value * unit)
