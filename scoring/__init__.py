"""Risk scoring: four retail models, trained on history, versioned, explained and monitored.

Pure parts (no Flask, no database): :mod:`.schema` (feature contracts), :mod:`.catalog` (the four
models, their schemas and floors), :mod:`.synthetic` (the simulated retailer), :mod:`.dataset`
(history and the retailer's CSV), :mod:`.training`, :mod:`.metrics`, :mod:`.artifacts` (version
folders on disk), :mod:`.serving` (the :class:`Scorer`), :mod:`.features` (case data to
features), :mod:`.drift` (PSI) and :mod:`.shipped` (rebuilds the default models).

Database parts: :mod:`.registry` mirrors the artifacts into the ``model_version`` table and owns
activation and shadowing; :mod:`.monitoring` reads scored cases for drift and audits alerts.
"""
from .features import features_from_case
from .serving import Score, Scorer

__all__ = ["Score", "Scorer", "features_from_case"]
