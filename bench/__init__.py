"""panel-dask benchmarks: `python -m bench` (or `make bench`) from the repository root.

Every benchmark runs its baselines in the same run and reports ratios against
them, because a shared 2-core machine is noisy. Figures are printed, written to
``bench/results/latest.json`` and summarised with plots in
``bench/results/report.md``. A benchmark fails only when it could not measure,
never because a figure missed a goal.
"""
