"""Benchmark: generate, load and export a synthetic site; prints one JSON line of figures.

Usage: python -m bench.generator_bench [--preset large]   (small, medium, large, issues-small, issues-medium)

An issue preset adds the issue data's figures (issues, comments, worklogs, attachments and their declared bytes,
links, sprints) and the seed's JSON size; attachment bytes are generated when read, so they are not in the JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from typing import Any

from fakejira import generator, seeding
from fakejira.issue_generator import ISSUE_PRESETS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="large", choices=sorted([*generator.PRESETS, *ISSUE_PRESETS]))
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
    if args.preset in ISSUE_PRESETS:
        figures |= issue_figures(seed)
    print(json.dumps(figures))


def issue_figures(seed: dict[str, Any]) -> dict[str, Any]:
    """How much issue data the seed holds."""
    attachments = [a for items in seed.get("issueAttachments", {}).values() for a in items]
    return {
        "issues": len(seed.get("issues", [])),
        "comments": sum(len(rows) for rows in seed.get("issueComments", {}).values()),
        "worklogs": sum(len(rows) for rows in seed.get("issueWorklogs", {}).values()),
        "attachments": len(attachments),
        "attachment_mb": round(sum(a["size"] for a in attachments) / 2**20, 1),
        "largest_attachment_mb": round(max((a["size"] for a in attachments), default=0) / 2**20, 1),
        "links": len(seed.get("issueLinks", [])), "sprints": len(seed.get("sprints", [])),
        "seed_json_mb": round(len(json.dumps(seed, ensure_ascii=False).encode()) / 2**20, 1),
    }


if __name__ == "__main__":
    main()
