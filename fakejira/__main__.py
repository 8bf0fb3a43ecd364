"""Command line: ``serve`` runs the emulator as a process; ``seed-keys`` lists seed keys; ``generate`` writes a seed.

    python -m fakejira serve --port 8081 --seed seed.json --site other=other-seed.json --site big=preset:large
    python -m fakejira seed-keys
    python -m fakejira generate --preset large --out large.json
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .cloud import Cloud

PRESET_PREFIX = "preset:"


def _load(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def site_seed(name: str, source: str | None) -> dict[str, Any] | None:
    """The seed named by ``--seed``/``--site``: a JSON file, ``preset:NAME`` or nothing (empty).

    A preset is generated here, as a capture of a site called ``name`` (what ``generator.generate_preset(preset,
    site_name=name)`` gives in-process), so a 40 MB seed never goes through a file or a pipe.
    """
    if not source:
        return None
    if source.startswith(PRESET_PREFIX):
        from .generator import PRESETS, generate_preset
        from .issue_generator import ISSUE_PRESETS

        preset = source.removeprefix(PRESET_PREFIX)
        if preset not in PRESETS and preset not in ISSUE_PRESETS:
            known = ", ".join([*PRESETS, *ISSUE_PRESETS])
            raise SystemExit(f"site {name!r}: unknown preset {preset!r}; known: {known}")
        return generate_preset(preset, site_name=name)
    return _load(source)


def serve(args: argparse.Namespace) -> int:
    """Serve the platform and the sites until SIGINT/SIGTERM; prints one line per URL, then ``READY``."""
    cloud = Cloud()
    sites = [(args.name, args.seed)] + [tuple(site.split("=", 1)) for site in args.site]
    for name, seed in sites:
        if not name:
            raise SystemExit("--site wants NAME=SEEDFILE or NAME=preset:PRESET")
        cloud.add_site(name, site_seed(name, seed), defaults=not args.no_defaults)
    from . import spec
    from .server import ServerThread

    # Parse the specs before READY: the first requests would otherwise each parse a copy at once (an unlocked
    # cache), and a benchmark's first measured calls would pay for it.
    spec.warm_up()

    # The platform first, so fixed ports for the first site and the platform can be honoured.
    cloud._platform_server = ServerThread(cloud.platform_app, port=args.platform_port).start()
    cloud.platform_url = cloud._platform_server.url
    for index, (name, _seed) in enumerate(sites):
        cloud._serve_site(name, port=args.port if index == 0 else 0)
    print(f"platform {cloud.platform_url}", flush=True)
    print(f"install-keys {cloud.install_keys_url}", flush=True)
    for name, site in cloud.sites.items():
        print(f"site {name} {site.base_url} cloudId={site.cloud_id} gateway={cloud.gateway_url(site)}", flush=True)
    print("READY", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if args.stop_on_stdin_eof:  # the parent holds our stdin open: its death, however hard, stops us too
        threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop.set()), name="stdin-watch",
                         daemon=True).start()
    stop.wait()
    cloud.stop()
    return 0


def seed_keys(_args: argparse.Namespace) -> int:
    """Print the seed document's top-level keys registered by the resource modules, in loading order."""
    from .registry import SEED_AFTER
    from .seeding import seed_order

    for name in seed_order():
        after = ", ".join(SEED_AFTER.get(name, ()))
        print(f"{name}\t{('after: ' + after) if after else ''}".rstrip())
    return 0


def generate(args: argparse.Namespace) -> int:
    """Write a synthetic site's seed document (see ``generator.py``); prints what it holds and how long it took."""
    import time

    from .generator import generate_preset

    started = time.perf_counter()
    seed = generate_preset(args.preset, hostile=args.hostile, rng_seed=args.rng_seed, site_name=args.site_name)
    text = json.dumps(seed, ensure_ascii=False, indent=1 if args.pretty else None)
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(args.out).write_text(text, encoding="utf-8")
    counts = ", ".join(f"{k}={len(v)}" for k, v in seed.items() if k in ("projects", "fields", "workflows", "filters"))
    print(f"{args.preset}: {counts}; {len(text) / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakejira", description="Emulated Jira Cloud")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the emulator on 127.0.0.1")
    run.add_argument("--port", type=int, default=0, help="port of the first site (0: any free port)")
    run.add_argument("--platform-port", type=int, default=0, help="port of the platform (OAuth, install keys)")
    run.add_argument("--name", default="jira", help="name of the first site")
    run.add_argument("--seed", help="seed JSON file (or preset:small|medium|large) for the first site")
    run.add_argument("--site", action="append", default=[], metavar="NAME=SEEDFILE",
                     help="another site (repeatable); SEEDFILE may be empty (NAME=) or a generator preset "
                          "(NAME=preset:large)")
    run.add_argument("--no-defaults", action="store_true", help="sites start empty, without Jira's defaults")
    run.add_argument("--stop-on-stdin-eof", action="store_true",
                     help="also stop when stdin closes (a parent process that keeps a pipe open)")
    run.set_defaults(func=serve)
    keys = sub.add_parser("seed-keys", help="print the seed keys the resource modules register")
    keys.set_defaults(func=seed_keys)
    gen = sub.add_parser("generate", help="write a synthetic site's seed document")
    gen.add_argument("--preset", choices=("small", "medium", "large"), default="small")
    gen.add_argument("--hostile", action=argparse.BooleanOptionalAction, default=True,
                     help="mix hostile names in (unicode, RTL, emoji, markup, SQL, maximum lengths)")
    gen.add_argument("--rng-seed", type=int, default=42, help="same number, same document")
    gen.add_argument("--site-name", default="jira", help="the site the seed is a capture of (round trips there)")
    gen.add_argument("--pretty", action="store_true", help="indent the JSON")
    gen.add_argument("--out", required=True, help="output file, or - for stdout")
    gen.set_defaults(func=generate)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
