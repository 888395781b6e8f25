"""Ab initio workflows: CP2K (and VASP) restartable runs, AIMD melt-quench, DFT labelling."""
