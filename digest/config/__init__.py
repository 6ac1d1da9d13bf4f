"""Configuration: the TOML settings file with DIGEST_* overrides, feed lists and periods.

`load_settings` reads and checks a config file into frozen `Settings` (one-line errors that
name the file and key); `load_feed_list` reads TOML or OPML feed lists and `union_feeds` joins them, once per URL; `period_key` and
`trigger_for` turn a digest's crontab line and time zone into the stable name of the period a
moment belongs to, and the trigger the service schedules.
"""

from digest.config.feedlists import load_feed_list, union_feeds
from digest.config.llm import LlmSettings
from digest.config.load import load_settings
from digest.config.periods import (
    fire_after,
    period_key,
    schedule_slots,
    several_a_day,
    slot_key,
    trigger_for,
)
from digest.config.rules import is_regex_rule
from digest.config.settings import (
    CatchUp,
    DigestSettings,
    FetchSettings,
    Recipient,
    Settings,
    SmtpSettings,
)
from digest.config.tables import parse_duration

__all__ = [
    "CatchUp",
    "DigestSettings",
    "FetchSettings",
    "LlmSettings",
    "Recipient",
    "Settings",
    "SmtpSettings",
    "fire_after",
    "is_regex_rule",
    "load_feed_list",
    "load_settings",
    "parse_duration",
    "period_key",
    "schedule_slots",
    "several_a_day",
    "slot_key",
    "trigger_for",
    "union_feeds",
]
