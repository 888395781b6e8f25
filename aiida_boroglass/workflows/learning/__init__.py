"""Machine-learning potentials: DeePMD model ensembles trained on labelled datasets."""
