"""Every rule of every built-in pack is checked against its own pass/fail fixtures."""
import pytest

from bot.engine import ConfigError, grammar
from bot.engine.rules import REQUIRED_GROUPS, InfraRule, builtin_packs, group, load_pack

CASES = []
for pack in builtin_packs().values():
    for rule in pack.all_rules():
        for sample in rule.examples["pass"]:
            CASES.append((pack, rule, sample, True))
        for sample in rule.examples["fail"]:
            CASES.append((pack, rule, sample, False))


def _matches(pack, rule, sample):
    """A glob matches the path; an ast rule matches (with the captures its category needs) under any
    of the pack's parsers; a regex matches the text."""
    if isinstance(rule, InfraRule):  # the path, then (for a rule with content patterns) the file's text
        path, _, text = sample.partition("\n")
        return rule.matches(path, text if rule.content else None)
    if hasattr(rule, "glob"):
        return rule.matches(sample)
    if rule.ast is not None:
        need = [g.upper() for g in REQUIRED_GROUPS[rule.category]]
        for lang in pack.languages():
            for m in rule.find(grammar.parse(sample, lang), lang, sample):
                if all(m.get_match(n) or m.get_transformed(n) for n in need):
                    return True
        return False
    for m in rule.finditer(sample):
        if rule.category == "routes" and not group(m, "path"):
            continue
        if rule.category == "definitions" and not group(m, "name"):
            continue
        if rule.category == "references" and not group(m, "target"):
            continue
        return True
    return False


@pytest.mark.parametrize("pack,rule,sample,expected", CASES,
                         ids=[f"{c[0].name}:{c[1].id}:{'pass' if c[3] else 'fail'}:{i}" for i, c in enumerate(CASES)])
def test_rule_fixture(pack, rule, sample, expected):
    assert _matches(pack, rule, sample) is expected, f"{rule.id} on {sample!r}"


def test_every_pack_and_rule_is_documented():
    packs = builtin_packs()
    assert {"generic", "go", "python", "javascript", "java"} <= set(packs)
    for pack in packs.values():
        assert pack.description
        for rule in pack.all_rules():
            assert rule.description and rule.why and rule.fix, rule.id


PACK = """\
pack: custom
description: test
extensions: [".x"]
rules:
  routes:
    - id: x-route
      description: d
      pattern: {pattern}
      examples: {{pass: ["a"], fail: ["b"]}}
"""


def test_catastrophic_pattern_is_rejected_with_its_location():
    with pytest.raises(ConfigError) as e:
        load_pack(PACK.format(pattern="'(?P<path>(a|a?)+)+$'"), "rules/custom.yml")
    p = e.value.first
    assert "backtracks catastrophically" in p.message
    assert (p.line, p.path) == (8, "rules.routes[0].pattern")


def test_backreference_blow_up_over_punctuation_is_rejected():
    # passes probes of letters and spaces, explodes on its own character: ',' repeated
    with pytest.raises(ConfigError) as e:
        load_pack(PACK.format(pattern="'(?P<path>/a)(,|,,)+\\2X'"), "rules/custom.yml", trusted=False)
    assert "backtracks catastrophically" in e.value.first.message


def test_a_repositorys_pack_gets_a_tight_time_limit_and_a_rule_cap():
    from bot.engine.rules import CUSTOM_MATCH_TIMEOUT, MATCH_TIMEOUT, MAX_CUSTOM_RULES
    ok = PACK.format(pattern="'GET (?P<path>/x)'")
    assert load_pack(ok, "rules/custom.yml").routes[0].timeout == MATCH_TIMEOUT
    assert load_pack(ok, "rules/custom.yml", trusted=False).routes[0].timeout == CUSTOM_MATCH_TIMEOUT
    many = ok.split("  routes:")[0] + "  routes:\n" + "".join(
        f"    - id: r{i}\n      description: d\n      pattern: 'GET (?P<path>/x{i})'\n"
        f"      examples: {{pass: ['GET /x{i}'], fail: ['b']}}\n" for i in range(MAX_CUSTOM_RULES + 1))
    assert len(load_pack(many, "rules/custom.yml").routes) == MAX_CUSTOM_RULES + 1  # shipped packs: no cap
    with pytest.raises(ConfigError, match=f"at most {MAX_CUSTOM_RULES}"):
        load_pack(many, "rules/custom.yml", trusted=False)


def test_pattern_without_required_group():
    with pytest.raises(ConfigError) as e:
        load_pack(PACK.format(pattern="'GET (/x)'"), "rules/custom.yml")
    assert "(?P<path>" in e.value.first.message


def test_pattern_that_does_not_compile():
    with pytest.raises(ConfigError) as e:
        load_pack(PACK.format(pattern="'(?P<path>[a-'"), "rules/custom.yml")
    assert "does not compile" in e.value.first.message


def test_unknown_rule_key_gets_a_hint():
    text = PACK.format(pattern="'(?P<path>/x)'").replace("      description: d", "      descripton: d")
    with pytest.raises(ConfigError) as e:
        load_pack(text, "rules/custom.yml")
    msgs = [str(p) for p in e.value.problems]
    assert any("unknown key 'descripton'" in m and "did you mean 'description'" in m for m in msgs), msgs


def test_overlapping_word_space_pattern_is_rejected():
    with pytest.raises(ConfigError) as e:
        load_pack(PACK.format(pattern=r"'(?P<path>(\w+\s?)+$)'"), "rules/custom.yml")
    assert "catastrophically" in e.value.first.message


def test_extends_inherits_rules_extensions_and_syntax():
    from bot.engine.rules import select
    from bot.engine.index import build_index
    child = load_pack("pack: go-echo\ndescription: Go with a house router\nextends: [go]\nrules:\n  routes:\n"
                      "    - id: house-route\n      description: d\n"
                      "      pattern: 'house\\.Route\\(\"(?P<path>/[^\"]*)\"'\n"
                      "      examples: {pass: ['house.Route(\"/x\")'], fail: ['x']}\n", "rules/go-echo.yml")
    rs = select(["go-echo"], ["a.go"], [child])
    pack = rs.pack_for("a.go")
    assert pack.name == "go-echo" and ".go" in pack.extensions
    assert {"house-route", "go-handle"} <= {r.id for r in pack.routes}
    fi = build_index("a.go", b'package a\n// house.Route("/commented")\nfunc F() { house.Route("/x"); '
                     b'http.HandleFunc("/y", h) }\n', rs)
    assert sorted(r.norm for r in fi.routes) == ["/x", "/y"]
    assert rs.is_test("a_test.go")


from hypothesis import given, settings, strategies as st  # noqa: E402

PACK_BITS = ["pack: p\n", "description: d\n", "rules:\n", "  routes:\n", "    - id: r\n", "      description: d\n",
             "      pattern: ", "'(?P<path>/x)'\n", "'(a+)+'\n", "'['\n", "      examples: {pass: [a], fail: [b]}\n",
             "extensions: ['.x']\n", "extends: [go]\n", "  tests:\n", "      glob: '**/{'\n", "\t", "- ", ": ", "&a ", "*a\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PACK_BITS), max_size=25).map("".join))
def test_rule_pack_loader_only_ever_raises_config_error(text):
    try:
        load_pack(text, "rules/x.yml")
    except ConfigError as exc:
        assert exc.problems and all(p.file == "rules/x.yml" for p in exc.problems)
