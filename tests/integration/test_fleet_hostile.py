"""The fleet view against a rogue minion's mine entries (docs/security.md).

The rogue minion publishes, with ``mine.send``, whatever it likes under the
aliases the fleet view reads (``venvbuild_venvs``, ``venvbuild_repo``):
keys that are not strings, values of the wrong type, huge strings, terminal
escape sequences. ``salt-run venvbuild.fleet`` must return normally, show no
control character, list the rogue's builder entry apart as unverified and its
junk as malformed, naming it.
"""

import json
import time
import unicodedata

import pytest

pytestmark = pytest.mark.integration

ESC = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e\u2028"
FORGED_SHA = "0f" * 32


def flow(value):
    """``value`` as one line of YAML flow syntax, ASCII only: strings double-quoted
    with escapes (``\\u001b``), keys of any scalar type. Salt's command line
    parses such an argument into the structure."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{flow(key)}: {flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def controls(value, where="view"):
    """Every key or string character of ``value`` a terminal could act on."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += controls(key, f"{where} key")
            found += controls(item, f"{where}[{key!r}]")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += controls(item, f"{where}[{index}]")
    elif isinstance(value, str):
        found += [(where, char) for char in value
                  if unicodedata.category(char)[0] == "C" or unicodedata.category(char) in ("Zl", "Zp")]
    return found


def publish(salt_cli, rogue_id, alias, value):
    """``mine.send`` on the rogue minion: ``value`` becomes its mine entry ``alias``
    (``test.outputter`` returns its argument; mine.send passes a mapping argument
    on as keyword arguments, hence ``{data: value}``)."""
    ret = salt_cli.run("mine.send", alias, "mine_function=test.outputter", flow({"data": value}),
                       minion_tgt=rogue_id)
    assert ret.returncode == 0 and ret.data is True, ret
    echo = salt_cli.run("mine.get", rogue_id, alias, "tgt_type=list", minion_tgt=rogue_id)
    assert echo.data, f"the mine holds no {alias} of {rogue_id}: {echo}"
    return echo.data[rogue_id]


def fleet(master, *args):
    """``salt-run venvbuild.fleet``: it answers, with no traceback and no control character."""
    started = time.monotonic()
    ret = master.salt_run_cli(timeout=120).run("venvbuild.fleet", *args)
    print(f"\nsalt-run venvbuild.fleet {' '.join(args)}: {time.monotonic() - started:.2f} s")
    assert ret.returncode == 0, ret
    for text in (ret.stdout, ret.stderr):
        assert "Traceback" not in text, text
        assert "\x1b" not in text and "\x07" not in text
    assert isinstance(ret.data, dict) and "venvs" in ret.data, ret
    assert controls(ret.data) == []
    return ret.data


@pytest.fixture
def rogue_mine(salt_cli, minions, cluster_dir, pillar, rogue_id):
    """Every minion's mine entries up to date; the rogue's own ones removed afterwards."""
    if not (cluster_dir / "pillar" / "venvs.sls").exists():  # this file alone
        pillar.set_packages(["vbapp"])
    assert salt_cli.run("saltutil.refresh_pillar", "wait=True", minion_tgt="*").returncode == 0
    assert salt_cli.run("mine.update", minion_tgt="*").returncode == 0
    try:
        yield
    finally:
        for alias in ("venvbuild_venvs", "venvbuild_repo"):
            salt_cli.run("mine.delete", alias, minion_tgt=rogue_id)


def reasons(view, minion, entry):
    return [p.get("reason", "") for p in view["malformed"]
            if p["minion"] == minion and p["entry"] == entry]


def test_the_fleet_view_is_neither_crashed_nor_misled_by_a_rogue_minions_mine(
        master, salt_cli, rogue_mine, builder_id, target_ids, rogue_id):
    platform = salt_cli.run("venvbuild.platform", minion_tgt=builder_id).data["key"]
    long_error = "\x1b[2J\x1b[H" + "A" * 20000 + "\x9b"
    venvs = publish(salt_cli, rogue_id, "venvbuild_venvs", {
        # Well formed but for its text: shown, escaped and cut; it claims a manifest
        # only the rogue publishes.
        "app": {"path": "/opt/venvs/app", "platform": platform, "wanted": "0" * 16,
                "installed": "1" * 16, "manifest_sha256": FORGED_SHA,
                "trust": f"manifest sha256 published by builder {rogue_id} (mine){ESC}",
                "current": False, "error": long_error},
        7: {"path": "/x"},
        "evil" + ESC: {"path": "/x"},
        "list": ["path", "/x"],
        "types": {"path": 7, "wanted": [1], "installed": {"a": 1}, "manifest_sha256": 7,
                  "trust": None, "current": "yes"},
        "huge": {"path": "/" + "x" * 30000, "wanted": None, "installed": None,
                 "manifest_sha256": None, "trust": None, "current": False},
    })
    assert 7 in venvs or "7" in venvs  # what Salt carried (YAML gave an integer key)
    repo = publish(salt_cli, rogue_id, "venvbuild_repo", {
        "url": "http://203.0.113.9:8181/" + "p" * 1000,
        "path": "/srv/evil" + ESC,
        "platforms": [platform, "evil" + ESC, 42],
        "published": [platform],
        "manifests": {f"{platform}/app-{'1' * 16}": FORGED_SHA, 7: "x", "k" + ESC: FORGED_SHA,
                      f"{platform}/app-{'2' * 16}": [FORGED_SHA]},
    })
    assert repo["manifests"][f"{platform}/app-{'1' * 16}"] == FORGED_SHA

    view = fleet(master)
    print(json.dumps({key: view[key] for key in ("builders", "unverified", "malformed", "notes")},
                     indent=1))
    # The rogue's builder entry is listed apart, its claims shown and cut.
    assert builder_id in view["builders"] and rogue_id not in view["builders"]
    rogue = view["unverified"][rogue_id]
    assert rogue["platforms"] == [platform] and rogue["manifests"] == 1
    assert rogue["url"].startswith("http://203.0.113.9:8181/ppp") and rogue["url"].endswith("characters]")
    assert len(rogue["url"]) < 300
    # Its manifests do not count as published: the rogue runs one only it publishes.
    app = view["venvs"]["app"]
    assert rogue_id in app["unpublished"]
    assert not set(app["unpublished"]) & set(target_ids)
    assert app["minions"][rogue_id]["trust"].endswith("(mine)\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e\\u2028")
    assert app["drift"][rogue_id].startswith("\\x1b[2J\\x1b[HAAA")
    assert len(app["drift"][rogue_id]) < 600
    # Its junk is reported, naming it; nothing else of it reaches the view.
    venv_reasons = reasons(view, rogue_id, "venvbuild_venvs")
    for expected in ("venv id is an integer, not a string",
                     "venv id 'evil\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e\\u2028' is not a venv id",
                     "is a list of 2 items, not a mapping",
                     "path is an integer, not a string",
                     "path is a string of 30001 characters, longer than 4096"):
        assert any(expected in reason for reason in venv_reasons), (expected, venv_reasons)
    assert sorted(view["venvs"]) == ["app"]
    repo_reasons = reasons(view, rogue_id, "venvbuild_repo")
    for expected in ("platforms item 'evil\\x1b]0;pwned", "platforms item is an integer",
                     "3 manifest(s) dropped", "holds the control or separator character U+001B"):
        assert any(expected in reason for reason in repo_reasons), (expected, repo_reasons)
    assert view["summary"]["unverified"] == 1 and view["summary"]["malformed"] == len(view["malformed"])

    # Builders named on the command line: the master resolves them; the rogue stays apart.
    named = fleet(master, f"builders={builder_id}", "builders_tgt_type=list")
    assert list(named["builders"]) == [builder_id] and rogue_id in named["unverified"]
    assert rogue_id in named["venvs"]["app"]["unpublished"]


def test_mine_entries_of_the_wrong_type_are_reported_not_raised(master, salt_cli, rogue_mine,
                                                                 builder_id, rogue_id):
    publish(salt_cli, rogue_id, "venvbuild_venvs", "\x1b[2J\x07" * 100)
    publish(salt_cli, rogue_id, "venvbuild_repo", [1, ESC, {"url": "http://evil/"}])
    view = fleet(master)
    assert reasons(view, rogue_id, "venvbuild_venvs") == [
        "is a string of 500 characters, not a mapping of venv ids"]
    assert reasons(view, rogue_id, "venvbuild_repo") == [
        "is a list of 3 items, not a mapping; entry dropped"]
    assert rogue_id not in view["unverified"] and rogue_id not in view["builders"]
    assert builder_id in view["builders"]
    assert all(rogue_id not in venv["minions"] for venv in view["venvs"].values())
