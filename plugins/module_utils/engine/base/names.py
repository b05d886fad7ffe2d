# SPDX-License-Identifier: GPL-3.0-or-later
"""Object names: validation as podman, and generated adjective_surname names.

The word lists are our own. Generated names are unique across containers and
pods because both share the DB's ``names`` table (checked by the caller's insert).
"""
from __future__ import annotations

import binascii
import os
import random
from typing import Callable

from .errors import InvalidArg
from .lazyre import lazy_compile

NAME_RE = lazy_compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
MAX_NAME_LEN = 253

ADJECTIVES = (
    "agile", "amber", "ancient", "autumn", "bold", "brave", "bright", "brisk", "calm", "candid",
    "careful", "cheerful", "clever", "cosmic", "crimson", "curious", "daring", "dazzling", "eager",
    "earnest", "electric", "elegant", "fearless", "festive", "fierce", "gallant", "gentle", "gifted",
    "golden", "graceful", "hardy", "helpful", "honest", "humble", "jolly", "keen", "kind", "lively",
    "loyal", "lucid", "lunar", "mellow", "merry", "mighty", "modest", "nimble", "noble", "patient",
    "placid", "polite", "proud", "quick", "quiet", "radiant", "rapid", "serene", "sharp", "silent",
    "sincere", "smooth", "solar", "steady", "stoic", "sturdy", "sunny", "swift", "tender", "tidy",
    "tranquil", "trusty", "upbeat", "valiant", "vivid", "warm", "wise", "witty", "zealous", "zesty",
)

SURNAMES = (
    "agnesi", "al_khwarizmi", "ampere", "archimedes", "avogadro", "babbage", "banach", "bernoulli",
    "bohr", "boltzmann", "boole", "brahe", "cantor", "carnot", "cauchy", "cavendish", "chandrasekhar",
    "copernicus", "coulomb", "curie", "darwin", "dijkstra", "dirac", "doppler", "einstein", "euclid",
    "euler", "faraday", "fermat", "fermi", "feynman", "fibonacci", "fourier", "franklin", "galileo",
    "galois", "gauss", "germain", "goodall", "hamilton", "hawking", "heisenberg", "hertz", "hilbert",
    "hopper", "hubble", "huygens", "hypatia", "joule", "kelvin", "kepler", "lagrange", "laplace",
    "lavoisier", "leibniz", "lovelace", "maxwell", "meitner", "mendel", "mendeleev", "michelson",
    "newton", "noether", "ohm", "pascal", "pasteur", "pauli", "planck", "poincare", "ramanujan",
    "riemann", "rutherford", "sagan", "schrodinger", "shannon", "somerville", "tesla", "thompson",
    "turing", "volta", "watt", "wiles", "yalow",
)


def validate_name(name: str, param: str = "name", kind: str = "container") -> str:
    """podman's rule ``[a-zA-Z0-9][a-zA-Z0-9_.-]*``: no name can leave its directory."""
    if not isinstance(name, str) or not name:
        raise InvalidArg("%s: a %s name must not be empty" % (param, kind))
    if len(name) > MAX_NAME_LEN:
        raise InvalidArg("%s: %s name is %d characters long, the limit is %d"
                         % (param, kind, len(name), MAX_NAME_LEN))
    if not NAME_RE.fullmatch(name):
        raise InvalidArg("%s: invalid %s name %r" % (param, kind, name),
                         hint="names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* (no '/', '..' or spaces)")
    return name


def random_name(rng: random.Random = random.SystemRandom()) -> str:  # noqa: B008 - one shared RNG is intended
    return "%s_%s" % (rng.choice(ADJECTIVES), rng.choice(SURNAMES))


def generate_name(taken: Callable[[str], bool], attempts: int = 64) -> str:
    """A free adjective_surname name; adds a digit suffix after collisions."""
    for i in range(attempts):
        name = random_name()
        if i >= attempts // 2:
            name = "%s%d" % (name, random.randint(0, 99))
        if not taken(name):
            return name
    raise InvalidArg("could not generate a free name after %d attempts" % attempts,
                     hint="give the object a name")


def new_id() -> str:
    """A 64-hex-character ID, as libpod's stringid.GenerateRandomID."""
    while True:
        oid = binascii.hexlify(os.urandom(32)).decode()
        if not oid.isdigit():  # libpod avoids all-numeric IDs (ambiguous with numbers)
            return oid
