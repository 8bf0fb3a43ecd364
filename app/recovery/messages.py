"""The words both admin doors (the Connect pages and the Forge page) say about connections: one table, no copies.

A leaf module (it imports nothing of ours), so the domain's errors, the presenters and both doors read the same
texts. Every text is fixed or built from enum labels and numbers only: never from what a visitor typed.

What a refused activation tells the attempting site, and why it is safe
-----------------------------------------------------------------------
The token's secret carries 130 random bits and is checked *first*. Until it verifies, every refusal says the same
thing ("not a token we issued, or mistyped"), whether the look-up id exists or not: a guesser learns nothing. Only
someone holding the whole, real token gets past that check, and to them the banner says precisely what is wrong
(the address isn't the token's source, the token was refreshed, the connection is in use elsewhere…). That person
holds the credential already; telling them why it didn't work helps the real admin and no guesser. The attempting
site's audit log carries exactly the same words as its banner, so the banner never tells more than the log did.
The source site's own log keeps the precise reason (and where the attempt came from) for its admins.
"""

from __future__ import annotations

from dataclasses import dataclass

URL_HINT = ("Enter only the site's address, for example https://your-site.atlassian.net "
            "(no user name, page path or query).")
FORMAT_HINT = "That isn't a complete recovery token: copy all of it, from JDR1- to the end."

# -- activation refusals ------------------------------------------------------------------------------------------

UNKNOWN = "unknown"  # no such token, or its secret is wrong: the only answer a guesser ever sees
RETIRED = "retired"
SAME_SITE = "same-site"  # the site tried its own token
WRONG_SITE = "wrong-site"
IN_USE = "in-use"
RACE = "race"

ACTIVATION_REASONS: dict[str, str] = {
    UNKNOWN: "That token isn't one this service issued, or it was mistyped. Copy it again from where you stored "
             "it, all of it from JDR1- to the end, or ask the source site's admin for a new token.",
    RETIRED: "This token no longer works: {why}. Ask the source site's admin for the current token.",
    SAME_SITE: "That is this site's own token. Use it on the new site that replaces this one, not here.",
    WRONG_SITE: "The token is valid, but the address you entered isn't the site it was generated on. Enter the "
                "source site's address (any address it had before works too).",
    IN_USE: "The token's connection is {state} with another site. The source site's admin must release it before "
            "this site can activate it.",
    RACE: "Another activation of this connection happened at the same moment. Reload the page to see where "
          "things stand.",
}

# Why a token stopped working, as the attempting site is told (keys: the reasons the domain stores).
RETIRED_WHY: dict[str, str] = {
    "refreshed": "it was refreshed and a newer token replaced it",
    "reset": "it was reset and a newer token replaced it",
    "replaced by a newly generated token": "a newly generated token replaced it",
    "released as not reusable": "its connection was released as not reusable",
    "connection deactivated": "its connection was deactivated",
}


def activation_reason(code: str, *, retired_reason: str | None = None, state_label: str = "") -> str:
    """The sentence for a refused activation (the same words in the banner and the attempting site's audit log)."""
    text = ACTIVATION_REASONS.get(code, ACTIVATION_REASONS[UNKNOWN])
    if code == RETIRED:
        return text.format(why=RETIRED_WHY.get(retired_reason or "", "it was replaced or withdrawn"))
    if code == IN_USE:
        return text.format(state=state_label or "in use")
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def attempts_left_text(left: int, window_minutes: int) -> str:
    """The warning before a lock: how many failed attempts remain, and what a lock means."""
    if left <= 0:
        return (f"This site has no failed attempts left: the next one that doesn't verify waits up to "
                f"{_plural(window_minutes, 'minute')}. A valid token and address still work.")
    return (f"{_plural(left, 'attempt')} left before failed activations from this site are locked for "
            f"{_plural(window_minutes, 'minute')} (a valid token and address always work).")


def throttled_text(retry_minutes: int) -> str:
    return (f"Too many failed activation attempts from this site. Try again in {_plural(retry_minutes, 'minute')}. "
            "A valid token with its source site's address still works now.")


def paused_text(retry_minutes: int) -> str:
    return (f"Activations are paused for the whole service for a while: too many failed attempts came from many "
            f"sites, not because of this site. This is a temporary safety stop. Try again in "
            f"{_plural(retry_minutes, 'minute')}. A valid token with its source site's address still works now.")


# -- notices ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Notice:
    """A message for the page: a fixed code, its kind and text (texts come from enums and constants only)."""

    code: str
    kind: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "kind": self.kind, "text": self.text}


NOT_FOUND_TEXT = "That connection doesn't exist on this site. Reload the page and try again."

# Fixed texts for the codes an action may answer with: (kind, text). Never built from input.
NOTICES: dict[str, tuple[str, str]] = {
    "activated": ("success", "Connection activated. This site can now read the source site's backups."),
    "released-reusable": ("success", "Connection released. The token can be used again to activate a destination."),
    "released-retired": ("success", "Connection released. The token no longer works: generate a new one "
                                    "before activating a destination."),
    "deactivated": ("success", "Connection deactivated. The source's data can no longer be recovered through it."),
    "activation-refused": ("error", ACTIVATION_REASONS[UNKNOWN]),
    "invalid-token": ("error", FORMAT_HINT),
    "invalid-url": ("error", URL_HINT),
    "not-found": ("error", NOT_FOUND_TEXT),
    "token-stored": ("info", "The token is no longer shown anywhere. Keep your stored copy: it's what a new site "
                             "needs to recover this one."),
    "token-issued": ("info", "Copy this token now and keep it somewhere safe outside this Jira site, such as your "
                             "organisation's password manager. You'll need it to recover this site's configuration "
                             "into a new site. It won't be shown again."),
    "token-replaced": ("info", "The previous token no longer works."),
    "schedule-saved": ("success", "Backup schedule saved."),
}


def notice(code: str) -> Notice:
    kind, text = NOTICES[code]
    return Notice(code, kind, text)


# The confirmation step for the actions that can't be taken back (both doors show these texts).
CONFIRMATIONS: dict[str, dict[str, str]] = {
    "release": {"title": "Release the connection?",
                "text": "The destination site will no longer be linked to the source. Can the token be used again "
                        "in future, for example to activate another destination?",
                "yes": "Yes, the token can be used again", "no": "No, a new token must be generated"},
    "deactivate": {"title": "Deactivate the connection?",
                   "text": "The source's data can no longer be recovered through this connection. This is final: "
                           "it can't be undone, and the token stops working.",
                   "confirm": "Deactivate connection"},
    "refresh": {"title": "Refresh the token?",
                "text": "A new token replaces the current one, and the current token stops working at once. Any "
                        "copy you stored becomes useless: store the new one instead.",
                "confirm": "Refresh token"},
    "reset": {"title": "Reset the token?",
              "text": "A new token replaces the current one, and the current token stops working at once. The "
                      "connection keeps its status (an active destination stays active).",
              "confirm": "Reset token"},
}
