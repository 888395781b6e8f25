"""hopping layer of aiida-boroglass (see DESIGN.md): the site-energy hopping model.

Pure numpy/scipy, no AiiDA import. Implements M. Bosi and P. Maass, "Predicting
conductivities of alkali borophosphate glasses based on site energy distributions derived
from network former unit concentrations" (2021; shared/papers/003), sections II-V:

- :mod:`.units`: network-former units (B4, B3, B2, P3-P0), their validation against a
  composition, and a simple stand-in for the published concentration model;
- :mod:`.lattice`: the bcc lattice of NFU and ion sites, links and electrode faces;
- :mod:`.landscape`: blocking (eq. 1), counter-charges (Fig. 2), site energies (eq. 2);
- :mod:`.percolation`: Fermi level (eq. 4), barriers (eq. 8b), E_a = Delta_c (eq. 9);
- :mod:`.conductance`: rates (eq. 5), link conductances (eq. 7), Kron reduction and
  sigma_dc (eqs. 10-13);
- :mod:`.fitting`: Arrhenius fit, V0 and sigma_eps from the two end-member glasses.
"""
