"""Serves the app descriptor: ``atlassian-connect.json`` (beside this module) with this deployment's values in."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

bp = Blueprint("descriptor", __name__)

DESCRIPTOR_FILE = Path(__file__).resolve().parent / "atlassian-connect.json"  # package data


@cache
def _template() -> str:
    return DESCRIPTOR_FILE.read_text(encoding="utf-8")


def build_descriptor(base_url: str, app_key: str, app_name: str | None = None) -> dict[str, Any]:
    """The descriptor for a deployment reachable at ``base_url``."""
    descriptor = json.loads(_template())
    descriptor["baseUrl"] = base_url.rstrip("/")
    descriptor["key"] = app_key
    if app_name:
        descriptor["name"] = app_name
    return descriptor


@bp.get("/atlassian-connect.json")
def descriptor() -> ResponseReturnValue:
    cfg = current_app.config
    resp = jsonify(build_descriptor(cfg["BASE_URL"], cfg["APP_KEY"], cfg.get("APP_NAME")))
    resp.headers["Cache-Control"] = "no-cache"
    return resp
