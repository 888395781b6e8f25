"""AiiDA data type carrying a validated glass composition through provenance."""
from __future__ import annotations

from aiida import orm

from aiida_boroglass.glass.composition import Composition


class CompositionData(orm.Data):
    """Oxide mole fractions of a glass, validated by :class:`~aiida_boroglass.glass.composition.Composition`.

    Construct with ``CompositionData(spec, x=None)`` where ``spec`` is any notation that
    :meth:`Composition.parse` accepts; the canonical fractions are stored as attributes.
    """

    def __init__(self, spec=None, x: float | None = None, **kwargs):
        super().__init__(**kwargs)
        if spec is not None:
            composition = spec if isinstance(spec, Composition) else Composition.parse(spec, x=x)
            self.base.attributes.set_many(composition.to_dict())

    @property
    def composition(self) -> Composition:
        """The domain object, rebuilt (and so re-validated) from the stored attributes."""
        return Composition.from_dict(self.base.attributes.all)

    @property
    def label_text(self) -> str:
        """Canonical composition label, e.g. ``30Li2O-70B2O3``."""
        return self.composition.label

    def __str__(self) -> str:
        return f'{super().__str__()} {self.composition.label}'
