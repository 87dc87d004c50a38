"""After a venv changed: facts (grains and a local facts file) and an event.

The Salt form of the role's ``venv_facts_when_changed``/``venv_facts_dest``:
each ``{section, option, value}`` becomes the grain ``<dest>:<section>:<option>``
and the option of section ``[section]`` in the INI file ``<dir>/<dest>.fact``.
"""

import configparser
import io
import logging
import os

from saltext_venvbuild.core import fsutil
from saltext_venvbuild.core.errors import SpecError

log = logging.getLogger(__name__)

EVENT_TAG = "venvbuild/venv/{venv_id}/changed"


def write_file(facts_dir, dest, facts):
    """Merge ``facts`` into ``<facts_dir>/<dest>.fact``; return its path."""
    fsutil.ensure_dir(facts_dir, "facts directory", 0o755, enforce=False)
    path = os.path.join(facts_dir, f"{dest}.fact")
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keep option names as given, like the grains
    try:
        parser.read_string(fsutil.read_text(path) or "", source=path)
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise SpecError(
            f"facts file {path} exists but is not an INI file ({exc}); move it away "
            "or choose another facts_dest"
        ) from None
    for fact in facts:
        if not parser.has_section(fact["section"]):
            parser.add_section(fact["section"])
        parser.set(fact["section"], fact["option"], fact["value"])
    text = io.StringIO()
    parser.write(text)
    fsutil.atomic_write(path, text.getvalue())
    return path


def announce(salt, facts_dir, venv_id, dest, facts, event_data, *, bus_available=True):
    """Set facts (grains and file) and fire the change event; return what was set."""
    done = {}
    if facts:
        done["file"] = write_file(facts_dir, dest, facts)
        for fact in facts:
            key = f"{dest}:{fact['section']}:{fact['option']}"
            salt["grains.set"](key, fact["value"], force=True)
        done["grains"] = sorted(f"{dest}:{f['section']}:{f['option']}" for f in facts)
    tag = EVENT_TAG.format(venv_id=venv_id)
    if not bus_available:
        # salt-call --local with no minion daemon: there is no event bus, and
        # trying costs a second of timeout per changed venv.
        done["event"] = None
        return done
    try:
        sent = salt["event.send"](tag, event_data)
    except Exception as exc:  # pylint: disable=broad-except
        # An event bus that is not there (masterless, no daemon) must not fail an install.
        log.warning("venvbuild: could not send event %s: %s", tag, exc)
        sent = False
    done["event"] = tag if sent else None
    return done
