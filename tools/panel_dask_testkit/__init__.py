"""The test kit: the one set of helpers the tests and benchmarks share, never shipped.

Ports and HTTP probes (``net``), the wait helper (``waiting``), the process
wrapper (``processes``), real Dask and Panel processes on loopback
(``local_dask``, ``panel_server``), Debian's nginx set up like the chart's
Ingress (``nginx``), the chart on a Kubernetes API (``kube``), the operator as
a process (``operator_process``) and Debian's chromium (``browser``, a pytest
plugin registered through this distribution's ``pytest11`` entry point).
"""
