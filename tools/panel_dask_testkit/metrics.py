"""Read a Prometheus endpoint as Prometheus does: its text format, parsed by prometheus-client."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


class Samples(dict[tuple[str, frozenset[tuple[str, str]]], float]):
    """Every sample of one scrape, keyed by sample name and label set."""

    def value(self, name: str, **labels: str) -> float | None:
        """The one sample ``name`` whose labels include ``labels``; None when absent."""
        wanted = set(labels.items())
        found = [v for (n, ls), v in self.items() if n == name and wanted <= ls]
        if len(found) > 1:
            raise AssertionError(f"{len(found)} samples of {name} match {labels}")
        return found[0] if found else None

    def names(self) -> set[str]:
        """The sample names served."""
        return {name for name, _ in self}


def parse(text: str) -> Samples:
    """Samples of a Prometheus text exposition."""
    samples = Samples()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def scrape(url: str, timeout: float = 5.0) -> Samples:
    """GET a /metrics endpoint and parse it."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return parse(response.read().decode())
