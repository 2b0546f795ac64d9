"""Config validation: every problem with file:line:column, the key path, expectation and a hint."""
import pytest

from bot.engine import ConfigError, Snapshot, parse_config
from bot.engine.config import DEFAULT_WEIGHTS, load_from_snapshot

F = ".github/driftbot.yml"


def problems(text, snapshot=None):
    with pytest.raises(ConfigError) as e:
        parse_config(text, F, snapshot)
    return e.value.problems


def test_full_valid_config():
    cfg = parse_config("""\
version: 1
features:
  - id: agents
    spec: docs/ideas/agents.md
    code: [internal/agents/**]
    tests: internal/agents/**/*_test.go
    wired_from: cmd/**
patterns:
  - spec: docs/ideas/{name}.md
    code: internal/{name}/**
exclude: ["**/*.pb.go"]
rules:
  packs: [go]
scoring:
  weights: {requirements: 60, wiring: 0}
  marker_cost: 0.1
waivers:
  - fingerprint: 0123456789ab
    reason: accepted for now
    until: 2027-01-31
""", F)
    assert cfg.features[0].code == ("internal/agents/**",)
    assert cfg.features[0].wired_from == ("cmd/**",)
    assert cfg.patterns[0].spec == "docs/ideas/{name}.md"
    assert cfg.weights["requirements"] == 60 and cfg.weights["tests"] == DEFAULT_WEIGHTS["tests"]
    assert cfg.waivers[0].until.isoformat() == "2027-01-31"
    assert cfg.discover is False


def test_unknown_key_with_location_and_did_you_mean():
    (p,) = problems("version: 1\nfeatures:\n  - id: a\n    spec: x.md\n    cod: src/a/**\n")
    assert (p.line, p.column) == (5, 5)
    assert p.path == "features[0].cod"
    assert p.message == "unknown key 'cod'"
    assert p.hint == "did you mean 'code'?"
    assert str(p).startswith(".github/driftbot.yml:5:5: features[0].cod: unknown key 'cod'")


def test_wrong_type_says_what_was_expected():
    (p,) = problems("version: 1\nscoring:\n  weights:\n    tests: lots\n")
    assert (p.line, p.path) == (4, "scoring.weights.tests")
    assert "expected a number from 0 to 1000, got the string 'lots'" in p.message


def test_missing_version_and_required_keys():
    ps = problems("features:\n  - spec: a.md\n")
    msgs = {p.message for p in ps}
    assert "missing required key 'version'" in msgs
    assert "missing required key 'id'" in msgs


def test_invalid_yaml_reports_line_and_column():
    (p,) = problems("version: 1\nfeatures: [\n  - id: a\n")
    assert p.message.startswith("invalid YAML")
    assert p.line >= 2


def test_duplicate_keys_and_ids():
    (p,) = problems("version: 1\nversion: 1\n")
    assert "duplicate key 'version'" in p.message and p.line == 2
    ps = problems("version: 1\nfeatures:\n  - {id: a, spec: a.md}\n  - {id: a, spec: b.md}\n")
    assert "duplicate feature id 'a'" in ps[0].message and ps[0].line == 4


def test_alias_bomb_is_refused():
    bomb = "version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    prev = "a"
    for n in "bcdefgh":
        bomb += f"{n}: &{n} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
        prev = n
    (p,) = problems(bomb)
    assert "alias bomb" in p.message


def test_empty_and_non_mapping_configs():
    assert problems("")[0].message == "config is empty"
    assert "expected a mapping" in problems("- a\n- b\n")[0].message


def test_bad_date_glob_and_pattern():
    ps = problems("version: 1\nwaivers:\n  - {fingerprint: 0123456789ab, reason: r, until: 2027-02-30}\n")
    assert "not a calendar date" in ps[0].message
    ps = problems("version: 1\npatterns:\n  - spec: docs/{name}/{name}.md\n    code: src/**\n")
    assert "exactly one {name}" in ps[0].message
    ps = problems("version: 1\nwaivers:\n  - {fingerprint: nothex, reason: r}\n")
    assert "12-character gap fingerprint" in ps[0].message


def test_unquoted_braces_in_flow_style_get_a_hint():
    (p,) = problems("version: 1\npatterns:\n  - {spec: docs/{name}.md, code: src/**}\n")
    assert p.message.startswith("invalid YAML") and "quote" in p.hint


def test_unknown_rule_pack_name():
    (p,) = problems("version: 1\nrules:\n  packs: [golang]\n")
    assert p.message == "unknown rule pack 'golang'" and p.hint == "did you mean 'go'?"


def test_custom_pack_from_the_repository_is_validated():
    snap = Snapshot.from_texts({
        F: "version: 1\nrules:\n  custom: .driftbot/rules/*.yml\n",
        ".driftbot/rules/bad.yml": "pack: bad\ndescription: x\nrules:\n  routes:\n    - id: r\n      description: d\n"
                                   "      pattern: '(?P<path>(x+x+)+y)'\n      examples: {pass: [a], fail: [b]}\n",
    })
    with pytest.raises(ConfigError) as e:
        load_from_snapshot(snap)
    p = e.value.first
    assert p.file == ".driftbot/rules/bad.yml" and "catastrophically" in p.message


def test_no_config_means_discovery():
    cfg = load_from_snapshot(Snapshot.from_texts({"README.md": "hi"}))
    assert cfg.source is None and cfg.discover


def test_binary_config_is_an_error_not_a_crash():
    snap = Snapshot.from_texts({".driftbot.yml": b"\x00\x01\x02"})
    with pytest.raises(ConfigError) as e:
        load_from_snapshot(snap)
    assert "binary" in e.value.first.message


from hypothesis import given, settings, strategies as st  # noqa: E402

KEYS = ["version", "features", "patterns", "id", "spec", "code", "exclude", "waivers", "rules", "packs", "{name}",
        "scoring", "weights", "until", "*", "&a", "*a", "- ", ": ", "\n", "  ", "[", "]", "{", "}", "1", "'", '"']


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(KEYS), max_size=40).map("".join))
def test_config_parser_only_ever_raises_config_error(text):
    try:
        parse_config(text, F)
    except ConfigError as exc:
        assert exc.problems and all(p.file == F for p in exc.problems)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_config_parser_on_arbitrary_text(text):
    try:
        parse_config(text, F)
    except ConfigError:
        pass


def test_custom_pack_extending_an_unknown_pack_is_a_config_error():
    snap = Snapshot.from_texts({
        F: "version: 1\nrules:\n  custom: .driftbot/rules/*.yml\n",
        ".driftbot/rules/house.yml": "pack: house\ndescription: x\nextends: [golang]\nrules: {}\n",
    })
    with pytest.raises(ConfigError) as e:
        load_from_snapshot(snap)
    p = e.value.first
    assert (p.file, p.path, p.message, p.hint) == (".driftbot/rules/house.yml", "extends",
                                                   "unknown rule pack 'golang'", "did you mean 'go'?")
