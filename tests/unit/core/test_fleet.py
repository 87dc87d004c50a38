"""core/fleet.py: the fleet view reads the mine as hostile input.

Every test feeds what ``mine.get`` could return for entries a minion published
with ``mine.send``: wrong types, keys that are not strings, huge values,
terminal escape sequences. Nothing may raise, nothing unchecked may reach the
view, and only builders the master names count.
"""

import json
import unicodedata

import pytest

from saltext_venvbuild.core import fleet
from saltext_venvbuild.core.errors import SpecError
from saltext_venvbuild.core.errors import VenvbuildError

PLATFORM = "debian-12-x86_64-cp311"
SPEC = "0123456789abcdef"
SPEC2 = "fedcba9876543210"
SHA = "ab" * 32
SHA2 = "cd" * 32
TRUST = "manifest sha256 published by builder bld (mine)"
ESC = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e\u2028"


def venv(**changes):
    """One venv as venvbuild.fleet_info reports it (current)."""
    entry = {"path": "/opt/venvs/app", "platform": PLATFORM, "wanted": SPEC, "installed": SPEC,
             "manifest_sha256": SHA, "trust": TRUST, "current": True}
    entry.update(changes)
    return entry


def repo(**changes):
    """One builder's entry as venvbuild.repo_info reports it."""
    entry = {"url": "http://bld:8181", "path": "/srv/venvbuild", "platforms": [PLATFORM],
             "published": [PLATFORM], "manifests": {f"{PLATFORM}/app-{SPEC}": SHA}}
    entry.update(changes)
    return entry


def controls(value, where="view"):
    """Every character of every key and string in ``value`` that a terminal
    could act on (categories C* and Zl/Zp), with where it was found."""
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


def full_view(venvs=None, repos=None, verified=("bld",), by_venv=None, notes=()):
    targets, problems = fleet.read_venvs(venvs or {})
    builders, repo_problems = fleet.read_repos(repos or {})
    scope = fleet.BuilderScope(frozenset(verified), by_venv or {})
    return fleet.view(targets, builders, scope, problems + repo_problems, list(notes))


# -- show ----------------------------------------------------------------------------------


def test_plain_text_is_shown_as_it_is():
    assert fleet.show("http://bld:8181/x y_é") == "http://bld:8181/x y_é"


@pytest.mark.parametrize("char, shown", [
    ("\x1b", "\\x1b"), ("\x07", "\\x07"), ("\x00", "\\x00"), ("\n", "\\x0a"), ("\t", "\\x09"),
    ("\x7f", "\\x7f"), ("\x85", "\\x85"), ("\x9b", "\\x9b"), ("\u202e", "\\u202e"),
    ("\u200b", "\\u200b"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"), ("\ud800", "\\ud800"),
    ("\ue000", "\\ue000"), ("\U000e0001", "\\U000e0001"), ("\\", "\\\\"),
])
def test_every_control_format_and_separator_character_is_escaped(char, shown):
    assert fleet.show(f"a{char}b") == f"a{shown}b"
    assert controls(fleet.show(char * 50)) == []


def test_two_strings_never_show_alike():
    assert fleet.show("a\x1b") != fleet.show("a\\x1b")
    assert fleet.show_id("m\x1b") != fleet.show_id("m\\x1b")


@pytest.mark.parametrize("lookalike", ["build01\u034f", "build01\u2800", "build01\u3164",
                                       "bu\u0456ld01", "build01\u0336"])
def test_a_minion_id_never_passes_for_another(lookalike):
    # Printable but invisible or look-alike: an id with a filler, a blank braille
    # cell, a combining mark or a Cyrillic letter must not show as 'build01'.
    shown = fleet.show_id(lookalike)
    assert shown != fleet.show_id("build01") and shown.isascii() and shown.startswith("bu")
    assert fleet.show_id("build01") == "build01"


def test_long_text_is_cut_and_says_how_much():
    shown = fleet.show("x" * 100000)
    assert shown == "x" * fleet.TEXT_LIMIT + f"...[+{100000 - fleet.TEXT_LIMIT} characters]"
    assert fleet.show("x" * fleet.TEXT_LIMIT) == "x" * fleet.TEXT_LIMIT


def test_cutting_never_splits_an_escape():
    shown = fleet.show("\x1b" * 1000, limit=10)
    assert shown.startswith("\\x1b\\x1b...[+998 characters]")


def test_a_whole_minion_id_is_shown_even_when_every_character_is_escaped():
    assert fleet.show_id("\x1b" * 256) == "\\x1b" * 256


@pytest.mark.parametrize("value, words", [
    (None, "null"), (True, "a boolean"), (7, "an integer"), (1.5, "a number"),
    ("x" * 9, "a string of 9 characters"), ("x", "a string of 1 character"), (b"\x1b[2J", "4 bytes"),
    ({1: 2}, "a mapping of 1 entry"), ({}, "a mapping of 0 entries"), ([1, 2], "a list of 2 items"),
    ((1,), "a list of 1 item"), (object(), "a value of type object"),
])
def test_describe_names_the_type_without_showing_the_value(value, words):
    assert fleet.describe(value) == words


# -- venvbuild_venvs ------------------------------------------------------------------------


def test_a_well_formed_entry_is_read_as_it_is():
    targets, problems = fleet.read_venvs({"tgt1": {"app": venv(), "b": venv(
        current=False, installed=None, manifest_sha256=None, trust=None, error="no builder")}})
    assert problems == []
    assert targets["tgt1"]["app"] == fleet.VenvState("/opt/venvs/app", PLATFORM, SPEC, SPEC, SHA,
                                                     TRUST, True)
    assert targets["tgt1"]["b"].error == "no builder"


def test_an_entry_without_platform_after_an_error_is_read():
    entry = venv(wanted=None, installed=None, manifest_sha256=None, trust=None, current=False,
                 error="venv app: bad package")
    del entry["platform"]
    targets, problems = fleet.read_venvs({"tgt1": {"app": entry}})
    assert problems == [] and targets["tgt1"]["app"].platform is None


def test_the_kept_versions_are_read_sorted_and_deduplicated():
    targets, problems = fleet.read_venvs({"tgt1": {"app": venv(kept=[SPEC2, SPEC, SPEC2]),
                                                   "old": venv()}})
    assert problems == []
    assert targets["tgt1"]["app"].kept == (SPEC, SPEC2)
    assert targets["tgt1"]["old"].kept == ()  # a target of an older release publishes none


@pytest.mark.parametrize("kept, reason", [
    ("0123456789abcdef", "kept is a string of 16 characters, not a list of spec ids"),
    ([SPEC, "x\x1b"], "kept item 'x\\x1b' is not a spec id"),
    ([7], "kept item is an integer, not a string"),
    ([SPEC] * (fleet.MAX_KEPT + 1), f"kept lists {fleet.MAX_KEPT + 1} spec ids, more than {fleet.MAX_KEPT}"),
])
def test_a_bad_kept_list_costs_only_that_list(kept, reason):
    targets, problems = fleet.read_venvs({"rogue": {"app": venv(kept=kept)}})
    assert targets["rogue"]["app"].kept == () and targets["rogue"]["app"].wanted == SPEC
    (problem,) = problems
    assert problem.venv == "app" and problem.reason == f"{reason}; ignored"
    assert controls(problem.as_dict()) == []


@pytest.mark.parametrize("changes, reason", [
    ({"path": 7}, "path is an integer, not a string"),
    ({"path": "relative/app"}, "path 'relative/app' is not an absolute path"),
    ({"path": "/opt/x" + ESC}, "holds the control or separator character U+001B"),
    ({"path": "/" + "x" * 5000}, "longer than 4096"),
    ({"wanted": 12345}, "wanted is an integer, not a string"),
    ({"wanted": "0123\x1b[2Jabcdef"}, "wanted '0123\\x1b[2Jabcdef' is not a spec id"),
    ({"installed": ["x"]}, "installed is a list of 1 item, not a string"),
    ({"manifest_sha256": "AB" * 32}, "is not a sha256"),
    ({"platform": {"x": 1}}, "platform is a mapping of 1 entry, not a string"),
    ({"trust": b"x"}, "trust is 1 byte, not a string"),
    ({"current": "yes"}, "current is a string of 3 characters, not a boolean"),
    ({"current": True, "installed": SPEC2}, "current is true but the installed spec is not the wanted one"),
    ({"error": 3.5}, "error is a number, not a string"),
])
def test_a_field_of_the_wrong_type_or_form_drops_that_venv_only(changes, reason):
    targets, problems = fleet.read_venvs({"rogue": {"app": venv(**changes), "ok": venv()}})
    assert list(targets["rogue"]) == ["ok"]
    (problem,) = problems
    assert problem.minion == "rogue" and problem.venv == "app" and problem.entry == "venvbuild_venvs"
    assert reason in problem.reason and problem.reason.endswith("entry dropped")
    assert controls(problem.as_dict()) == []


def test_a_missing_field_drops_the_venv():
    entry = venv()
    del entry["current"]
    _, problems = fleet.read_venvs({"rogue": {"app": entry}})
    assert problems[0].reason == "has no current; entry dropped"


@pytest.mark.parametrize("venv_id", [7, None, 1.5, True, b"app", "../app", "app\x1b[2J", "", "x" * 101])
def test_a_venv_id_that_is_no_venv_id_is_reported_escaped(venv_id):
    targets, problems = fleet.read_venvs({"rogue": {venv_id: venv(), "ok": venv()}})
    assert list(targets["rogue"]) == ["ok"]
    assert problems[0].reason.startswith("venv id ") and problems[0].reason.endswith("; entry dropped")
    assert ("is not a venv id" if isinstance(venv_id, str) else "not a string") in problems[0].reason
    assert controls(problems[0].as_dict()) == []


@pytest.mark.parametrize("entry, words", [
    ([1, 2], "a list of 2 items"), ("app" + ESC, "a string of"), (None, "null"), (7, "an integer"),
    (b"\x1b", "1 byte"),
])
def test_an_entry_that_is_no_mapping_is_reported_naming_the_minion(entry, words):
    targets, problems = fleet.read_venvs({"rogue\x1b[31m": entry, "tgt1": {"app": venv()}})
    assert list(targets) == ["tgt1"]
    (problem,) = problems
    assert problem.minion == "rogue\\x1b[31m"
    assert problem.reason == f"is {fleet.describe(entry)}, not a mapping of venv ids"
    assert words in problem.reason


def test_a_venv_that_is_no_mapping_is_dropped():
    _, problems = fleet.read_venvs({"rogue": {"app": ["path", "/x"]}})
    assert problems[0].reason == "is a list of 2 items, not a mapping; entry dropped"


def test_minion_ids_that_are_not_strings_are_reported_not_raised():
    targets, problems = fleet.read_venvs({7: {"app": venv()}, None: {}, "tgt1": {"app": venv()}})
    assert list(targets) == ["tgt1"]
    assert sorted(p.minion for p in problems) == ["an integer", "null"]


def test_unknown_keys_are_ignored_and_reported():
    entry = venv(extra=1)
    entry.update({"k\x1b": 2, 3: 4})
    targets, problems = fleet.read_venvs({"tgt1": {"app": entry}})
    assert "app" in targets["tgt1"]
    assert problems[0].reason == "unknown key(s) 'extra', 'k\\x1b', an integer ignored"


def test_mine_output_that_is_no_mapping_is_reported():
    assert fleet.read_venvs(None) == ({}, [])
    targets, problems = fleet.read_venvs(["x"])
    assert targets == {} and problems[0].reason == "mine.get returned a list of 1 item"


def test_a_minion_with_too_many_venvs_is_read_up_to_the_bound(monkeypatch):
    monkeypatch.setattr(fleet, "MAX_VENVS", 5)
    targets, problems = fleet.read_venvs({"rogue": {f"v{i}": venv() for i in range(50)}})
    assert len(targets["rogue"]) == 5
    assert problems[0].reason == "lists 50 venvs; only the first 5 are read"


def test_problems_are_listed_up_to_a_bound_per_minion_and_counted_beyond():
    _, problems = fleet.read_venvs({"rogue": {f"v{i}": 7 for i in range(100)}})
    assert len(problems) == fleet.MAX_PROBLEMS + 1
    assert problems[-1].reason == f"{100 - fleet.MAX_PROBLEMS} more problems not listed"


# -- venvbuild_repo -------------------------------------------------------------------------


def test_a_well_formed_builder_entry_is_read():
    repos, problems = fleet.read_repos({"bld": repo(manifests={
        f"{PLATFORM}/app-{SPEC}": SHA, f"2025.2/{PLATFORM}/my-app.x-{SPEC2}": SHA2})})
    assert problems == []
    assert repos["bld"].url == "http://bld:8181" and repos["bld"].platforms == (PLATFORM,)
    assert set(repos["bld"].manifests.values()) == {SHA, SHA2}


@pytest.mark.parametrize("changes, reason", [
    ({"url": 7}, "url is an integer, not a string"),
    ({"url": "file:///etc/shadow"}, "url 'file:///etc/shadow' is not an http:// or https:// URL"),
    ({"url": "http://evil\x1b]8;;x\x07"}, "url 'http://evil\\x1b]8;;x\\x07' holds the control"),
    ({"url": "http://" + "x" * 5000}, "longer than 2048"),
    ({"platforms": PLATFORM}, "platforms is a string of 22 characters, not a list of platform keys"),
    ({"platforms": {"a": 1}}, "platforms is a mapping of 1 entry, not a list"),
    ({"manifests": ["x"]}, "manifests is a list of 1 item, not a mapping"),
])
def test_a_builder_entry_of_the_wrong_shape_is_dropped_and_reported(changes, reason):
    repos, problems = fleet.read_repos({"rogue": repo(**changes)})
    assert repos == {}
    assert reason in problems[0].reason and problems[0].reason.endswith("entry dropped")
    assert controls([p.as_dict() for p in problems]) == []


def test_a_builder_entry_that_is_no_mapping_is_reported():
    repos, problems = fleet.read_repos({"rogue": [1], "bld": repo()})
    assert list(repos) == ["bld"]
    assert problems[0].reason == "is a list of 1 item, not a mapping; entry dropped"


def test_bad_platforms_and_manifests_are_dropped_one_by_one():
    repos, problems = fleet.read_repos({"rogue": repo(
        platforms=[PLATFORM, "evil\x1b[31m", 42, None],
        manifests={f"{PLATFORM}/app-{SPEC}": SHA, 7: SHA, "k\x07": SHA,
                   f"{PLATFORM}/app-{SPEC2}": ["x"], f"../{PLATFORM}/app-{SPEC}": SHA2},
        path="relative", published="x")})
    assert repos["rogue"].platforms == (PLATFORM,)
    assert repos["rogue"].manifests == {f"{PLATFORM}/app-{SPEC}": SHA}
    reasons = [p.reason for p in problems]
    assert "platforms item 'evil\\x1b[31m' is not a platform key; dropped" in reasons
    assert "platforms item is an integer, not a string; dropped" in reasons
    assert "4 manifest(s) dropped, the first: manifest key is an integer, not a string" in reasons
    assert "path 'relative' is not an absolute path; ignored" in reasons
    assert any(r.startswith("published is a string") for r in reasons)
    assert controls([p.as_dict() for p in problems]) == []


def test_too_many_manifests_and_platforms_are_read_up_to_the_bound(monkeypatch):
    monkeypatch.setattr(fleet, "MAX_MANIFESTS", 10)
    monkeypatch.setattr(fleet, "MAX_PLATFORMS", 3)
    manifests = {f"{PLATFORM}/app-{i:016x}": SHA for i in range(100)}
    platforms = [f"debian-{i}-x86_64-cp311" for i in range(20)]
    repos, problems = fleet.read_repos({"rogue": repo(manifests=manifests, platforms=platforms)})
    assert len(repos["rogue"].manifests) == 10 and len(repos["rogue"].platforms) == 3
    reasons = [p.reason for p in problems]
    assert "manifests lists 100 entries; only the first 10 are read" in reasons
    assert "platforms lists 20 platforms; only the first 3 are read" in reasons


def test_a_builder_without_manifests_serves_nothing_yet():
    repos, problems = fleet.read_repos({"bld": repo(manifests=None)})
    assert problems == [] and repos["bld"].manifests == {}


# -- which builders count -------------------------------------------------------------------


@pytest.mark.parametrize("config, expected", [
    ({}, None),
    ({"builder": "bld"}, fleet.Targeting("bld", "list")),
    ({"builder": "bld", "builder_target": "x*"}, fleet.Targeting("bld", "list")),
    ({"builder_target": "b1,b2", "builder_tgt_type": "list"}, fleet.Targeting("b1,b2", "list")),
    ({"builder_target": ["b1", "b2"], "builder_tgt_type": "list"}, fleet.Targeting("b1,b2", "list")),
    ({"builder_target": "bld*"}, fleet.Targeting("bld*", "glob")),
])
def test_targeting_is_what_the_target_passes_to_mine_get(config, expected):
    assert fleet.targeting(config) == expected


@pytest.mark.parametrize("config", [
    {"builder": "b*"}, {"builder_target": "b", "builder_tgt_type": "magic"}, {"builder_target": 7},
])
def test_bad_targeting_in_the_pillar_is_an_error(config):
    with pytest.raises(SpecError):
        fleet.targeting(config)


class Resolver:
    """resolve(target, tgt_type) of the adapter: the master's matching, counted."""

    def __init__(self, matches):
        self.matches = matches
        self.calls = []

    def __call__(self, target, tgt_type):
        self.calls.append((target, tgt_type))
        found = self.matches[(target, tgt_type)]
        if isinstance(found, Exception):
            raise found
        return found


def test_the_targets_pillars_name_the_builders_each_resolved_once():
    configs = {f"tgt{i}": {"app": {"builder_target": "bld", "builder_tgt_type": "list"},
                           "local": {}} for i in range(50)}
    configs["odd"] = {"app": {"builder": "bld2"}}
    resolve = Resolver({("bld", "list"): ["bld"], ("bld2", "list"): ["bld2"]})
    notes = []
    scope = fleet.pillar_scope(sorted(configs), configs.__getitem__, resolve, notes)
    assert sorted(resolve.calls) == [("bld", "list"), ("bld2", "list")]
    assert scope.verified == {"bld", "bld2"}
    assert scope.builders_of("tgt3", "app") == {"bld"}
    assert scope.builders_of("odd", "app") == {"bld2"}
    assert scope.builders_of("tgt3", "local") == {"bld", "bld2"}  # no targeting: every builder found
    assert notes[-1].startswith("builders: the 2 minion(s) with a venvbuild_repo entry")


def test_a_pillar_that_cannot_be_read_is_a_note_not_trust():
    def configs(minion_id):
        if minion_id == "broken":
            raise VenvbuildError("the master could not compile its pillar: boom\x1b[2J")
        return {"app": {"builder": "bld"}}

    notes = []
    scope = fleet.pillar_scope(["broken", "tgt1"], configs, Resolver({("bld", "list"): ["bld"]}), notes)
    assert scope.verified == {"bld"}
    assert notes[0] == "the builders of broken are unknown: the master could not compile its pillar: boom\x1b[2J"
    view = fleet.view({}, {}, scope, [], notes)
    assert view["notes"][0].endswith("boom\\x1b[2J") and controls(view) == []


def test_many_unreadable_pillars_make_one_note_beyond_the_bound():
    def configs(minion_id):
        raise VenvbuildError("no")

    notes = []
    fleet.pillar_scope([f"t{i}" for i in range(30)], configs, Resolver({}), notes)
    assert len(notes) == fleet.MAX_PROBLEMS + 2
    assert notes[fleet.MAX_PROBLEMS] == f"the builders of {30 - fleet.MAX_PROBLEMS} more target(s) are unknown (their pillar could not be read)"


def test_no_targeting_anywhere_trusts_no_builder_and_says_so():
    notes = []
    scope = fleet.pillar_scope(["tgt1"], lambda _: {"app": {}}, Resolver({}), notes)
    assert scope.verified == frozenset()
    assert "every venvbuild_repo entry is unverified" in notes[-1]


def test_grain_targeting_is_resolved_with_a_warning():
    notes = []
    scope = fleet.pillar_scope(["tgt1"], lambda _: {"app": {"builder_target": "roles:b",
                                                            "builder_tgt_type": "grain"}},
                               Resolver({("roles:b", "grain"): ["bld", "rogue"]}), notes)
    assert scope.verified == {"bld", "rogue"}
    assert any("any minion can set that grain" in note for note in notes)


def test_a_failed_resolution_counts_no_builder():
    notes = []
    scope = fleet.pillar_scope(["tgt1"], lambda _: {"app": {"builder": "bld"}},
                               Resolver({("bld", "list"): VenvbuildError("mine.get failed")}), notes)
    assert scope.verified == frozenset() and scope.builders_of("tgt1", "app") == frozenset()
    assert notes[0] == "the builders of list 'bld' are unknown: mine.get failed"


def test_builders_given_are_resolved_by_the_master():
    notes = []
    resolve = Resolver({("b1,b2", "list"): ["b1"]})
    scope = fleet.explicit_scope("b1,b2", "list", resolve, notes)
    assert scope.verified == {"b1"} and scope.builders_of("any", "app") == {"b1"}
    assert notes == ["builders: the 1 minion(s) with a venvbuild_repo entry the master matches "
                     "with builders='b1,b2' (list)"]


# -- the view ---------------------------------------------------------------------------------


def test_a_builder_the_master_does_not_name_is_listed_apart():
    view = full_view(venvs={"tgt1": {"app": venv()}},
                     repos={"bld": repo(), "rogue": repo(url="http://evil:1/", platforms=[PLATFORM])})
    assert list(view["builders"]) == ["bld"]
    assert view["unverified"] == {"rogue": {"url": "http://evil:1/", "platforms": [PLATFORM],
                                            "manifests": 1}}
    assert view["summary"]["builders"] == 1 and view["summary"]["unverified"] == 1


def test_manifests_of_unverified_builders_do_not_count_as_published():
    """The rogue publishes the hash the target runs; the real builder does not (any more)."""
    view = full_view(venvs={"tgt1": {"app": venv()}},
                     repos={"bld": repo(manifests={f"{PLATFORM}/app-{SPEC2}": SHA2}),
                            "rogue": repo(manifests={f"{PLATFORM}/app-{SPEC}": SHA})})
    assert view["venvs"]["app"]["unpublished"] == ["tgt1"]


def test_a_venv_is_checked_against_its_own_builders():
    venvs = {"tgt1": {"app": venv()}, "tgt2": {"app": venv()}}
    repos = {"b1": repo(), "b2": repo(manifests={})}
    by_venv = {("tgt1", "app"): frozenset({"b1"}), ("tgt2", "app"): frozenset({"b2"})}
    view = full_view(venvs=venvs, repos=repos, verified=("b1", "b2"), by_venv=by_venv)
    assert view["venvs"]["app"]["unpublished"] == ["tgt2"]


def test_unpublished_needs_a_builder_entry_and_a_builders_word():
    venvs = {"tgt1": {"app": venv()}, "tgt2": {"app": venv(trust="local repo")}}
    assert full_view(venvs=venvs, repos={})["venvs"]["app"]["unpublished"] == []
    view = full_view(venvs=venvs, repos={"bld": repo(manifests={})})
    assert view["venvs"]["app"]["unpublished"] == ["tgt1"]


def test_specs_drift_and_summary():
    venvs = {
        "tgt1": {"app": venv()},
        "tgt2": {"app": venv(wanted=SPEC2, current=False)},
        "tgt3": {"app": venv(installed=None, manifest_sha256=None, trust=None, current=False)},
        "tgt4": {"app": venv(current=False, error="venv app: boom\x1b[2J" + "x" * 1000)},
    }
    view = full_view(venvs=venvs, repos={"bld": repo()})
    app = view["venvs"]["app"]
    assert app["specs"] == {SPEC: ["tgt1", "tgt2", "tgt4"]}
    assert app["drift"]["tgt2"] == f"runs {SPEC}, its pillar wants {SPEC2}"
    assert app["drift"]["tgt3"] == "not installed"
    assert app["drift"]["tgt4"].startswith("venv app: boom\\x1b[2Jxxx")
    assert app["drift"]["tgt4"].endswith("characters]") and len(app["drift"]["tgt4"]) < 600
    assert view["summary"] == {"minions": 4, "venvs": 1, "current": 1,
                               "drifting": ["tgt2", "tgt3", "tgt4"], "builders": 1,
                               "unverified": 0, "malformed": 0, "local_builds": 0, "unserved": 0}
    assert (view["local_builds"], view["unserved"], view["preflight"]) == ({}, [], None)


def test_credentials_in_a_builder_url_are_hidden():
    view = full_view(repos={"bld": repo(url="https://user:token@bld/")})
    assert view["builders"]["bld"]["url"] == "https://****@bld/"


HOSTILE_VENVS = {
    "rogue\x1b[31m": {
        "app": venv(trust=TRUST + ESC, error=ESC * 5000, current=False, installed=SPEC2),
        "app2": venv(path="/" + ESC),
        7: venv(), None: [], "v\x9b": {}, "v": "x" * 1000000,
        "w": {"path": {"nested": [{"deep": [ESC]}]}, "wanted": b"\x1b", "installed": 2 ** 80,
              "manifest_sha256": float("nan"), "trust": None, "current": None},
    },
    "m2": "\x1b[2J" * 1000,
    "m3": [ESC],
    "m4": None,
}
HOSTILE_REPOS = {
    "rogue\x1b[31m": repo(url="http://evil:1/" + "p" * 1000, platforms=[PLATFORM, ESC, 7],
                         manifests={f"{PLATFORM}/app-{SPEC}": SHA, ESC: ESC, 7: 7}),
    "m2": {"url": "http://x/" + ESC, "platforms": []},
    "m3": repo(manifests=ESC),
    "m4": ESC,
    "m5": {},
}


def test_a_hostile_mine_makes_a_clean_view():
    view = full_view(venvs=HOSTILE_VENVS, repos=HOSTILE_REPOS, notes=["note " + ESC])
    assert controls(view) == []
    json.dumps(view)  # plain data, string keys
    assert view["builders"] == {}
    rogue = view["unverified"]["rogue\\x1b[31m"]
    assert rogue["platforms"] == [PLATFORM] and rogue["manifests"] == 1
    assert rogue["url"].startswith("http://evil:1/ppp") and rogue["url"].endswith("characters]")
    minions = {problem["minion"] for problem in view["malformed"]}
    assert minions == {"rogue\\x1b[31m", "m2", "m3", "m4", "m5"}
    assert all(len(json.dumps(problem)) < 2 * fleet.ERROR_LIMIT for problem in view["malformed"])
    assert view["venvs"]["app"]["minions"]["rogue\\x1b[31m"]["trust"].startswith(TRUST + "\\x1b]0;")
    assert list(view["venvs"]) == ["app"]
    assert len(view["venvs"]["app"]["drift"]["rogue\\x1b[31m"]) < fleet.ERROR_LIMIT + 40
    assert view["notes"] == ["note \\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e\\u2028"]


def test_a_long_url_of_an_unverified_builder_is_cut():
    view = full_view(repos={"rogue": repo(url="http://evil:1/" + "p" * 1000)})
    assert view["unverified"]["rogue"]["url"].endswith("...[+814 characters]")


def test_a_manifest_hash_that_is_no_sha256_names_its_manifest():
    key = f"{PLATFORM}/app-{SPEC}"
    repos, problems = fleet.read_repos({"rogue": repo(manifests={key: "\x1b[2J"}, extra=1)})
    assert repos["rogue"].manifests == {}
    assert [p.reason for p in problems] == [
        f"sha256 of manifest '{key}' '\\x1b[2J' is not a sha256; dropped",
        "unknown key(s) 'extra' ignored",
    ]


# -- the pre-flight check's inputs and output (core/preflight.py) ----------------------------

ROCKY = "rocky-9-x86_64-cp39"


def test_a_venv_is_served_by_its_own_verified_builders_of_its_platform():
    targets, _ = fleet.read_venvs({
        "t1": {"app": venv()},
        "t2": {"app": venv(platform=ROCKY)},
        "t3": {"app": venv(platform=None)},  # it could not compute its platform
    })
    repos, _ = fleet.read_repos({"b1": repo(), "rogue": repo(platforms=[ROCKY])})
    served = fleet.served_by(targets, repos, fleet.BuilderScope(frozenset({"b1"})))
    assert served("t1", "app", {}) == (PLATFORM, True)
    assert served("t2", "app", {}) == (ROCKY, False)  # only an unverified entry lists it
    assert served("t3", "app", {}) == (None, None)
    assert served("t9", "app", {}) == (None, None)  # no entry in the mine
    # builder_platforms (the venv's checked options) may exclude the one builder.
    assert served("t1", "app", {"builder_platforms": {"b1": ["rocky-*"]}}) == (PLATFORM, False)
    # The builders of that venv, not every verified one.
    scope = fleet.BuilderScope(frozenset({"b1", "b2"}), {("t1", "app"): frozenset({"b2"})})
    assert fleet.served_by(targets, repos, scope)("t1", "app", {}) == (PLATFORM, False)


def test_the_view_shows_the_preflight_it_is_given():
    given = {"local_builds": {"a": {"app": "why"}, "b": {"app": "why"}},
             "unserved": [{"minion": "c", "venv": "app", "problem": "none serves it"}],
             "refusal": "venvbuild.build would refuse: ..."}
    targets, _ = fleet.read_venvs({"t1": {"app": venv()}})
    view = fleet.view(targets, {}, fleet.BuilderScope(frozenset()), [], [], given)
    assert view["local_builds"] == given["local_builds"] and view["unserved"] == given["unserved"]
    assert view["preflight"] == given["refusal"]
    assert (view["summary"]["local_builds"], view["summary"]["unserved"]) == (2, 1)
