"""The melt-quench retries a packing packmol cannot finish, then stops with 401 (real packmol; no LAMMPS runs)."""
import pytest
from aiida.cmdline.utils.common import get_workchain_report
from aiida.common.log import configure_logging
from aiida.engine import run_get_node

from aiida_boroglass.calculations.packmol import PackmolCalculation
from aiida_boroglass.workflows.melt_quench import PACKING_RETRIES, MeltQuenchWorkChain


def test_impossible_packing_is_retried_with_new_seeds_and_smaller_tolerances_then_fails(lammps_code, packmol_code):
    """31 atoms of 3 Å in a 6.75 Å box (142 % filled): still impossible at 2.7 and 2.43 Å; about 30 s of packmol."""
    configure_logging(with_orm=True)  # a `verdi` command run in-process earlier leaves reports out of the database
    builder = MeltQuenchWorkChain.get_builder_from_protocol(
        lammps_code, '30Li2O-70B2O3', protocol='fast',
        overrides={'n_atoms': 30, 'density_g_cm3': 2.2, 'packing': {'tolerance_a': 3.0, 'seed': 12345}})
    node = run_get_node(builder).node
    assert node.exit_status == MeltQuenchWorkChain.exit_codes.ERROR_PACKING_FAILED.status == 401
    assert node.exit_message == 'The packing failed after 3 attempt(s), last with exit status 410.'
    packings = {link.link_label: link.node for link in node.base.links.get_outgoing().all()
                if link.node.process_label == 'PackmolCalculation'}
    assert sorted(packings) == ['packing', 'packing_retry1', 'packing_retry2'] and PACKING_RETRIES == 2
    tried = [(packings[label].inputs.seed.value, packings[label].inputs.tolerance_a.value)
             for label in ('packing', 'packing_retry1', 'packing_retry2')]
    assert tried == [(12345, 3.0), (12346, pytest.approx(2.7)), (12347, pytest.approx(2.43))]
    assert all(calc.exit_status == PackmolCalculation.exit_codes.ERROR_PACKING_FAILED.status
               for calc in packings.values())
    report = get_workchain_report(node, 'REPORT')
    assert 'retry 1 of 2 with seed 12346 (was 12345) and tolerance_a 2.700 Å (was 3.000 Å)' in report
    assert 'retry 2 of 2 with seed 12347 (was 12346) and tolerance_a 2.430 Å (was 2.700 Å)' in report
    assert not [link for link in node.base.links.get_outgoing().all() if link.link_label == 'md']
