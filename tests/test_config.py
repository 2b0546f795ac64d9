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


# ---- what the config names that is not in the repository ---------------------------------------------------

from bot.engine import Engine  # noqa: E402
from bot.engine.model import Status  # noqa: E402

AUDIT_SPEC = "# Compliance\n\n- `record_audit_entry()` writes every change to the audit log.\n"
AUDIT_CODE = "def record_audit_entry(entry):\n    return entry\n"


def feature_map(files):
    snap = Snapshot.from_texts(files)
    return Engine().feature_map(snap, load_from_snapshot(snap))


def warnings_of(files):
    return [(p.line, p.path, p.message, p.hint) for p in feature_map(files).config_warnings]


def test_pattern_name_is_filled_regardless_of_case_and_the_spec_is_judged_against_that_code():
    snap = Snapshot.from_texts({
        F: "version: 1\npatterns:\n  - spec: \"docs/{name}.md\"\n    code: \"src/{name}/**\"\n"
           "    tests: \"tests/test_{name}.py\"\n",
        "docs/COMPLIANCE.md": AUDIT_SPEC,
        "src/compliance/x.py": AUDIT_CODE,
        "tests/test_compliance.py": "from compliance.x import record_audit_entry\n",
        "src/app.py": "from compliance.x import record_audit_entry\n\nrecord_audit_entry({})\n",
    })
    config = load_from_snapshot(snap)
    engine = Engine()
    fmap = engine.feature_map(snap, config)
    (f,) = fmap.features
    assert (f.id, f.code, f.tests) == ("COMPLIANCE", ("src/compliance/**",), ("tests/test_compliance.py",))
    assert fmap.config_warnings == [] and fmap.unpaired_specs == []
    (result,) = engine.evaluate(snap, config).features
    (req,) = result.requirements
    assert req.status is Status.MET
    assert [(e.path, e.line) for e in req.evidence] == [("src/compliance/x.py", 1)]


def test_pattern_name_is_filled_across_separators():
    snap = Snapshot.from_texts({
        F: "version: 1\npatterns:\n  - spec: \"docs/{name}.md\"\n    code: \"src/{name}/\"\n",
        "docs/CONNECTORS_GMAIL.md": "# Gmail\n\n- `fetch_inbox()` pulls new mail.\n",
        "src/connectors-gmail/inbox.py": "def fetch_inbox():\n    return []\n",
        "src/connectors/other.py": "x = 1\n",
        "src/app.py": "from connectors_gmail.inbox import fetch_inbox\n\nfetch_inbox()\n",
    })
    config = load_from_snapshot(snap)
    engine = Engine()
    (f,) = engine.feature_map(snap, config).features
    assert f.code == ("src/connectors-gmail/",)
    (result,) = engine.evaluate(snap, config).features
    assert [(r.status, [e.path for e in r.evidence]) for r in result.requirements] == \
        [(Status.MET, ["src/connectors-gmail/inbox.py"])]


def test_every_glob_that_matches_nothing_is_a_warning_at_its_line():
    files = {
        F: """\
version: 1
features:
  - id: compliance
    spec: docs/COMPLIANCE.md
    code: [src/COMPLIANCE/**, src/compliance]
    tests: tests/compliance/**
    wired_from: /cmd/**
  - id: ghost
    spec: docs/ghost.md
    code: src/ghost/**
patterns:
  - spec: "Docs/ideas/{name}.md"
    code: "src/{name}/**"
documents:
  - spec: docs/roadmap.md
    code: [src/**, srv/**]
exclude: ["vendor/**"]
""",
        "docs/COMPLIANCE.md": AUDIT_SPEC,
        "docs/Roadmap.md": "# Roadmap\n",
        "docs/ideas/billing.md": "# Billing\n",
        "src/compliance/x.py": AUDIT_CODE,
        "cmd/main.py": "import compliance\n",
    }
    root = "is the path relative to the repository root?"
    assert warnings_of(files) == [
        (5, "features[0].code[0]", "no file matches `src/COMPLIANCE/**`", "did you mean `src/compliance/**`?"),
        (5, "features[0].code[1]", "no file matches `src/compliance`", "did you mean `src/compliance/`?"),
        (6, "features[0].tests", "no file matches `tests/compliance/**`", root),
        (7, "features[0].wired_from", "no file matches `/cmd/**`", "did you mean `cmd/**`?"),
        (9, "features[1].spec", "no file matches `docs/ghost.md`", root),
        (10, "features[1].code", "no file matches `src/ghost/**`", root),
        (12, "patterns[0].spec", "no file matches `Docs/ideas/{name}.md`", "did you mean `docs/ideas/{name}.md`?"),
        (15, "documents[0].spec", "no file matches `docs/roadmap.md`", "did you mean `docs/Roadmap.md`?"),
        (16, "documents[0].code[1]", "no file matches `srv/**`", root),
        (17, "exclude[0]", "no file matches `vendor/**`",
         "it excludes nothing: is the path relative to the repository root?"),
    ]
    fmap = feature_map(files)
    # the report shows them too, as file:line:column: key: what is wrong (what to do)
    assert fmap.warnings[0] == (".github/driftbot.yml:5:12: features[0].code[0]: no file matches "
                                "`src/COMPLIANCE/**` (did you mean `src/compliance/**`?)")
    assert not any(w.startswith(("feature 'ghost'", "pattern ", "documents: no file")) for w in fmap.warnings)


def test_a_glob_whose_files_are_all_excluded_says_so():
    files = {
        F: "version: 1\nfeatures:\n  - id: api\n    spec: docs/api.md\n    code: [gen/api/**, src/api/**]\n"
           "exclude: gen/**\n",
        "docs/api.md": "# API\n", "gen/api/client.py": "x = 1\n", "src/api/server.py": "y = 2\n",
    }
    assert warnings_of(files) == [(5, "features[0].code[0]", "every file `gen/api/**` matches is excluded",
                                   "an `exclude` glob hides them all: narrow `exclude`, or drop this glob")]


def test_a_pattern_glob_that_matches_nothing_for_some_names_is_one_warning_with_an_example():
    files = {
        F: "version: 1\npatterns:\n  - spec: \"docs/ideas/{name}.md\"\n    code: \"src/{name}/**\"\n"
           "    tests: [\"tests/test_{name}.py\", \"lib/{name}/**\"]\n",
        "docs/ideas/auth.md": "# Auth\n", "docs/ideas/billing.md": "# Billing\n", "docs/ideas/search.md": "# S\n",
        "src/auth/a.py": "a = 1\n", "src/billing/b.py": "b = 1\n",
        "tests/test_auth.py": "t = 1\n", "tests/test_Billing.py": "t = 2\n", "tests/test_search.py": "t = 3\n",
    }
    assert warnings_of(files) == [
        (4, "patterns[0].code", "no file matches `src/{name}/**` for 1 of its 3 names, e.g. `search` "
                                "(docs/ideas/search.md) → `src/search/**`",
         "those features have none here yet, or their files are named unlike their specs"),
        (5, "patterns[0].tests[1]", "no file matches `lib/{name}/**` for any of its 3 names, e.g. `auth` "
                                    "(docs/ideas/auth.md) → `lib/auth/**`", "is the path relative to the repository root?"),
    ]
    fmap = feature_map(files)
    assert {f.id: f.tests[0] for f in fmap.features} == {
        "auth": "tests/test_auth.py", "billing": "tests/test_Billing.py", "search": "tests/test_search.py"}


def test_a_pattern_whose_specs_are_all_claimed_declares_nothing():
    files = {
        F: "version: 1\nfeatures:\n  - {id: auth, spec: docs/auth.md, code: src/auth/}\npatterns:\n"
           "  - spec: \"docs/{name}.md\"\n    code: \"src/{name}/**\"\n",
        "docs/auth.md": "# Auth\n", "src/auth/a.py": "a = 1\n",
    }
    assert warnings_of(files) == [(5, "patterns[0].spec", "every file `docs/{name}.md` matches is already another "
                                   "feature's spec", "so this pattern declares no feature: drop it, or the feature "
                                   "that names those files")]


def test_a_config_whose_globs_all_match_has_no_warning():
    files = {
        F: "version: 1\nfeatures:\n  - id: auth\n    spec: docs/auth.md\n    code: src/auth/\n"
           "    tests: [tests/test_auth.py]\n    wired_from: cmd/**\npatterns:\n  - spec: \"docs/ideas/{name}.md\"\n"
           "    code: \"src/{name}/**\"\ndocuments:\n  - spec: docs/roadmap.md\n    split: headings\n"
           "exclude: [\"**/*.png\"]\n",
        "docs/auth.md": "# Auth\n", "docs/ideas/billing.md": "# Billing\n", "src/auth/a.py": "a = 1\n",
        "src/billing/b.py": "b = 1\n", "tests/test_auth.py": "t = 1\n", "cmd/main.py": "import auth\n",
        "docs/roadmap.md": "# Roadmap\n\n## Search\n\n- `search()` finds.\n\n## Export\n\n- `export()` writes.\n",
        "logo.png": b"\x89PNG\r\n\x1a\n\x00\x00",
    }
    fmap = feature_map(files)
    assert fmap.config_warnings == []
    assert {f.id for f in fmap.features} >= {"auth", "billing"}


def test_a_pattern_glob_misspelt_before_its_name_gets_the_spelling_that_matches():
    files = {
        F: "version: 1\npatterns:\n  - spec: \"docs/ideas/{name}.md\"\n    code: [\"Src/{name}/**\", \"src/{name}\"]\n",
        "docs/ideas/auth.md": "# Auth\n", "docs/ideas/billing.md": "# Billing\n",
        "src/auth/a.py": "a = 1\n", "src/billing/b.py": "b = 1\n",
    }
    assert [(path, hint) for _line, path, _message, hint in warnings_of(files)] == [
        ("patterns[0].code[0]", "did you mean `src/{name}/**`?"),
        ("patterns[0].code[1]", "did you mean `src/{name}/`?"),
    ]


def test_waivers_are_added_and_removed_in_the_text_keeping_comments():
    from bot.engine.config import parse_config, with_waiver, without_waiver
    text = "# ours\nversion: 1\nfeatures:\n  - id: a\n    spec: docs/a.md  # the spec\n"
    one = with_waiver(text, "0123456789ab", 'served by the "gateway"', "2031-01-01")
    assert one.startswith(text) and "# the spec" in one
    two = with_waiver(one, "ba9876543210", "later")
    cfg = parse_config(two, ".github/driftbot.yml")
    assert [(w.fingerprint, w.reason) for w in cfg.waivers] == [("0123456789ab", 'served by the "gateway"'),
                                                                ("ba9876543210", "later")]
    assert str(cfg.waivers[0].until) == "2031-01-01"
    assert with_waiver(two, "0123456789ab", "new reason").count("0123456789ab") == 1  # replaced, not doubled
    back = without_waiver(without_waiver(two, "0123456789ab"), "ba9876543210")
    assert back == text  # nothing left behind, not even an empty key
    flow = with_waiver("version: 1\nwaivers: []\nexclude: [x]\n", "0123456789ab", "r")
    assert [w.fingerprint for w in parse_config(flow, "c.yml").waivers] == ["0123456789ab"]
    assert without_waiver(text, "0123456789ab") == text



def test_a_flow_style_waivers_list_keeps_every_waiver_it_held():
    from bot.engine.config import parse_config, waivers_kept, with_waiver, without_waiver
    text = ("version: 1\nwaivers: [{fingerprint: 0123456789ab, reason: r1}, "
            "{fingerprint: ba9876543210, reason: r2, until: 2031-01-01}]\n")
    added = with_waiver(text, "aaaaaaaaaaaa", "r3")
    assert [w.fingerprint for w in parse_config(added, "c.yml").waivers] == ["0123456789ab", "ba9876543210",
                                                                            "aaaaaaaaaaaa"]
    assert waivers_kept(text, added, "aaaaaaaaaaaa")
    removed = without_waiver(text, "0123456789ab")
    assert [w.fingerprint for w in parse_config(removed, "c.yml").waivers] == ["ba9876543210"]
    assert str(parse_config(removed, "c.yml").waivers[0].until) == "2031-01-01"
    assert waivers_kept(text, removed, "0123456789ab")


def test_the_configs_problems_and_its_rule_packs_problems_are_reported_together():
    from bot.engine import ConfigError, Snapshot, load_config
    snap = Snapshot.from_texts({
        ".github/driftbot.yml": "version: 1\nfeaturez: []\nrules:\n  custom: .driftbot/*.yml\n",
        ".driftbot/house.yml": "pack: house\ndescription: d\nextensions: ['.go']\nrules:\n  routes:\n"
                               "    - id: bad\n      description: d\n      pattern: '(unclosed'\n"})
    try:
        load_config(snap)
    except ConfigError as exc:
        where = sorted(p.file for p in exc.problems)
    else:
        raise AssertionError("the config is invalid")
    assert where[0] == ".driftbot/house.yml" and ".github/driftbot.yml" in where
