"""The benchmarks' emulated Jira cloud, run in its own process (or in this one, for comparison) and driven only
through its control API (``/_emulator/...``, see ``fakejira/control.py``).

    with RemoteCloud({"src": "preset:large", "dst": None}) as cloud:   # mode="process" (default) or "thread"
        client_key = cloud.install("src", app_url + "/atlassian-connect.json")
        cloud.set_limits("src", latency=0.05)
        ...
        cloud.call_count("src"), cloud.calls("src"), cloud.points("dst"), cloud.violations()

A site's source is ``"preset:NAME"`` (generated where the emulator runs, as a capture of a site of that name), a seed
document (a dict) or ``None`` (a brand-new site: Jira's defaults only). In ``process`` mode the emulator is
``python -m fakejira serve`` and shares neither a GIL nor a heap with the caller; in ``thread`` mode it is a
``Cloud`` served by threads of this process (the benches' old set-up). Both modes answer the same calls the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fakejira.limits import CallRecord  # noqa: E402  (standard library only: no emulator weight here)

MODES = ("process", "thread")
PRESET_PREFIX = "preset:"
TIMEOUT = 120  # seconds per control request: exporting a large site takes a few
LIMIT_KEYS = {"latency": "latency", "quota": "quota", "window": "window", "burst_rate": "burstRate",
              "burst_capacity": "burstCapacity", "max_body_bytes": "maxBodyBytes"}


class EmulatorError(RuntimeError):
    """The emulator refused a control request, or its process died (the message then ends with its stderr)."""


@dataclass(frozen=True)
class RemoteSite:
    """One served site, as ``GET /_emulator/site`` describes it."""

    name: str
    base_url: str
    cloud_id: str
    gateway_url: str
    admin_account_id: str


@dataclass(frozen=True)
class Violation:
    """A spec violation the emulator recorded (the fields of ``fakejira.cloud.Violation``)."""

    site: str
    kind: str
    method: str
    path: str
    template: str | None
    messages: list[str]
    expected: bool = False


class RemoteCloud:
    """An emulated cloud with the named sites, served on loopback until the ``with`` block ends."""

    def __init__(self, sites: dict[str, str | dict[str, Any] | None], *, mode: str = "process",
                 ready_timeout: float = 600) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        if not sites:
            raise ValueError("a cloud needs at least one site")
        self.mode, self.ready_timeout = mode, ready_timeout
        self._sources = dict(sites)
        self.platform_url = ""
        self.install_keys_url = ""
        self.sites: dict[str, RemoteSite] = {}
        self._session = requests.Session()
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._stderr: IO[bytes] | None = None
        self._cloud: Any = None  # the in-process Cloud (thread mode)

    # -- life cycle ----------------------------------------------------------------------------------------
    def __enter__(self) -> RemoteCloud:
        try:
            urls = self._start_process() if self.mode == "process" else self._start_thread()
            self._describe(urls)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        died = self._proc is not None and self._proc.poll() is not None
        if died and error is not None:  # the caller's failure may just be the emulator's death: say so
            print(f"the emulator process had exited ({self._proc.returncode if self._proc else '?'}):\n"
                  f"{self._stderr_tail()}", file=sys.stderr)
        self.close()

    def close(self) -> None:
        """Stop the emulator (terminate, then kill after 10 s) and remove its temporary files; idempotent."""
        self._session.close()
        if self._cloud is not None:
            self._cloud.stop()
            self._cloud = None
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()  # the child's stdin watch stops it too
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=10)
            self._proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _start_process(self) -> dict[str, str]:
        self._tmp = tempfile.TemporaryDirectory(prefix="remote-cloud-")
        tmp = Path(self._tmp.name)
        (first, first_source), *others = self._sources.items()
        args = [sys.executable, "-m", "fakejira", "serve", "--port", "0", "--stop-on-stdin-eof",
                "--name", first]
        if first_source is not None:
            args += ["--seed", self._seed_arg(tmp, first, first_source)]
        for name, source in others:
            args += ["--site", f"{name}={self._seed_arg(tmp, name, source) if source is not None else ''}"]
        stdout_path = tmp / "stdout"
        self._stderr = (tmp / "stderr").open("w+b")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with stdout_path.open("wb") as stdout:
            # stdin stays a pipe we never write to: if this process dies, however hard, the child reads EOF and
            # stops, so no emulator outlives its bench on a shared machine.
            self._proc = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=stdout,
                                          stderr=self._stderr)
        return self._wait_ready(stdout_path)

    @staticmethod
    def _seed_arg(tmp: Path, name: str, source: str | dict[str, Any]) -> str:
        if isinstance(source, str):
            if not source.startswith(PRESET_PREFIX):
                raise ValueError(f"site {name!r}: a source is 'preset:NAME', a seed dict or None, not {source!r}")
            return source
        path = tmp / f"{name}.json"
        path.write_text(json.dumps(source), encoding="utf-8")
        return str(path)

    def _wait_ready(self, stdout_path: Path) -> dict[str, str]:
        """The URLs ``serve`` prints before ``READY`` (``platform``, ``install-keys``, ``site:<name>``)."""
        assert self._proc is not None
        deadline = time.monotonic() + self.ready_timeout
        while True:
            lines = stdout_path.read_text(encoding="utf-8").splitlines()
            if "READY" in lines:
                break
            if self._proc.poll() is not None:
                raise EmulatorError(f"the emulator process exited ({self._proc.returncode}) before READY:\n"
                                    f"{self._stderr_tail()}")
            if time.monotonic() > deadline:
                raise EmulatorError(f"the emulator was not READY after {self.ready_timeout:.0f} s:\n"
                                    f"{self._stderr_tail()}")
            time.sleep(0.05)
        urls: dict[str, str] = {}
        for line in lines:
            parts = line.split()
            if parts and parts[0] in ("platform", "install-keys"):
                urls[parts[0]] = parts[1]
            elif parts and parts[0] == "site":
                urls[f"site:{parts[1]}"] = parts[2]
        return urls

    def _start_thread(self) -> dict[str, str]:
        from fakejira import generator, spec
        from fakejira.cloud import Cloud

        cloud = Cloud()
        for name, source in self._sources.items():
            if isinstance(source, str):
                if not source.startswith(PRESET_PREFIX):
                    raise ValueError(f"site {name!r}: a source is 'preset:NAME', a seed dict or None, not {source!r}")
                source = generator.generate_preset(source.removeprefix(PRESET_PREFIX), site_name=name)
            cloud.add_site(name, source)
        spec.warm_up()  # as `serve` does before READY: the specs are parsed before anything is measured
        self._cloud = cloud.start()
        return {"platform": cloud.platform_url, "install-keys": cloud.install_keys_url,
                **{f"site:{name}": site.base_url for name, site in cloud.sites.items()}}

    def _describe(self, urls: dict[str, str]) -> None:
        self.platform_url, self.install_keys_url = urls["platform"], urls["install-keys"]
        for name in self._sources:
            base_url = urls[f"site:{name}"]
            self.sites[name] = RemoteSite(name, base_url, "", "", "")  # enough to ask the site for the rest
            info = self._get(name, "site")
            self.sites[name] = RemoteSite(name, base_url, info["cloudId"], info["gatewayUrl"], info["adminAccountId"])

    # -- requests ------------------------------------------------------------------------------------------
    def _request(self, method: str, site: str, endpoint: str, *, body: Any = None,
                 params: dict[str, Any] | None = None) -> requests.Response:
        url = f"{self.site(site).base_url}/_emulator/{endpoint}"
        try:
            response = self._session.request(method, url, json=body, params=params, timeout=TIMEOUT)
        except requests.ConnectionError as exc:
            if self._proc is not None and self._proc.poll() is not None:
                raise EmulatorError(f"the emulator process exited ({self._proc.returncode}):\n"
                                    f"{self._stderr_tail()}") from exc
            raise
        if response.status_code >= 400:
            raise EmulatorError(f"{method} /_emulator/{endpoint} on {site!r}: {response.status_code} "
                                f"{response.text[:500]}")
        return response

    def _get(self, site: str, endpoint: str, **params: Any) -> Any:
        return self._request("GET", site, endpoint, params=params or None).json()

    def _stderr_tail(self, size: int = 4000) -> str:
        if self._stderr is None:
            return "(no stderr: the emulator runs in this process)"
        self._stderr.flush()
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, self._stderr.tell() - size))
        return self._stderr.read().decode("utf-8", "replace")

    # -- typed helpers over the control API ----------------------------------------------------------------
    def site(self, name: str) -> RemoteSite:
        try:
            return self.sites[name]
        except KeyError:
            raise KeyError(f"no site {name!r}; this cloud has {sorted(self.sites)}") from None

    def install(self, site: str, descriptor_url: str) -> str:
        """Install the app whose descriptor is at ``descriptor_url`` (the real lifecycle); its clientKey."""
        return str(self._request("POST", site, "install", body={"descriptorUrl": descriptor_url}).json()["clientKey"])

    def set_limits(self, site: str, **knobs: float | int | None) -> dict[str, Any]:
        """Set ``latency``, ``quota``, ``window``, ``burst_rate``, ``burst_capacity``, ``max_body_bytes``."""
        unknown = set(knobs) - set(LIMIT_KEYS)
        if unknown:
            raise TypeError(f"unknown limit knob(s) {sorted(unknown)}; known: {sorted(LIMIT_KEYS)}")
        body = {LIMIT_KEYS[k]: v for k, v in knobs.items() if v is not None}
        return dict(self._request("POST", site, "limits", body=body).json())

    def refill_quota(self, site: str) -> dict[str, Any]:
        """Start the site's quota afresh, as if the hour had turned; answers the limits (``used`` is 0)."""
        return dict(self._request("POST", site, "limits/refill").json())

    def clear_limits(self, site: str) -> None:
        self._request("DELETE", site, "limits")

    def calls(self, site: str, *, method: str | None = None, template: str | None = None,
              status: int | None = None) -> list[CallRecord]:
        """The site's call log (optionally filtered), as ``site.calls.find(...)`` gives it in-process."""
        records = self._get(site, "calls", **_filters(method, template, status))
        return [CallRecord(**record) for record in records]

    def call_count(self, site: str, *, method: str | None = None, template: str | None = None,
                   status: int | None = None) -> int:
        """How many calls the log holds, without shipping the log here."""
        return int(self._get(site, "calls", count="true", **_filters(method, template, status))["count"])

    def clear_calls(self, site: str) -> None:
        self._request("DELETE", site, "calls")

    def violations(self, site: str | None = None) -> list[Violation]:
        """Spec violations recorded by ``site``, or by every site."""
        names = [site] if site is not None else list(self.sites)
        return [Violation(**v) for name in names for v in self._get(name, "violations")]

    def seed(self, site: str, document: dict[str, Any]) -> None:
        """Load a seed document into the site (on top of what it holds)."""
        self._request("POST", site, "seed", body=document)

    def export(self, site: str) -> dict[str, Any]:
        """The site's configuration in seed format."""
        return dict(self._get(site, "export"))

    def admins(self, site: str, *, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> list[str]:
        """Add/remove site administrators; the administrators now."""
        return list(self._request("POST", site, "admins", body={"add": list(add), "remove": list(remove)}).json())

    def oauth_token(self, site: str, scopes: list[str], account_id: str | None = None) -> dict[str, Any]:
        """An OAuth 2.0 (3LO) token response for ``site`` (default user: its admin), as if consent was given."""
        body: dict[str, Any] = {"scopes": list(scopes)}
        if account_id is not None:
            body["accountId"] = account_id
        return dict(self._request("POST", site, "oauth-token", body=body).json())

    def points(self, site: str) -> Counter[str]:
        """Quota points charged per ``"METHOD template"`` since the last ``clear_points``."""
        return Counter(self._get(site, "points")["byTemplate"])

    def clear_points(self, site: str) -> None:
        self._request("DELETE", site, "points")

    def emulator_cpu_seconds(self) -> float | None:
        """CPU the emulator process has used so far (user + system); None in thread mode or without ``/proc``."""
        if self._proc is None:
            return None
        try:
            stat = Path(f"/proc/{self._proc.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is field 3, utime 14, stime 15
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _filters(method: str | None, template: str | None, status: int | None) -> dict[str, Any]:
    found = {"method": method, "template": template, "status": status}
    return {k: v for k, v in found.items() if v is not None}
