"""Benchmark: generate, load and export the synthetic `large` site; prints one JSON line of figures.

Usage: python -m bench.generator_bench [--preset large]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from tests.fakejira import generator, seeding


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="large", choices=sorted(generator.PRESETS))
    args = parser.parse_args()
    started = time.perf_counter()
    seed = generator.generate_preset(args.preset)
    generated = time.perf_counter()
    site = seeding.new_site("jira", seed=seed)
    loaded = time.perf_counter()
    exported = seeding.export_site(site)
    done = time.perf_counter()
    figures = {
        "bench": "generator", "preset": args.preset,
        "projects": len(seed["projects"]), "filters": len(seed["filters"]),
        "options": sum(len(rows) for rows in seed["fieldOptions"].values()),
        "generate_s": round(generated - started, 2), "load_s": round(loaded - generated, 2),
        "export_s": round(done - loaded, 2), "round_trip_equal": exported == seed,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
