"""Spec parsing: requirement kinds, 1-based lines, excluded sections; property tests for robustness."""
import pytest
from hypothesis import given, settings, strategies as st

from bot.engine.model import Kind
from bot.engine.specparse import classify, parse_gherkin, parse_markdown, parse_spec

SPEC = """\
# Agents

Agents call `POST /api/agents/{id}/heartbeat` and read
`heartbeat.interval` from `config/agent.yaml`.

The service MUST reject stale tokens.

- [x] `AgentService` is done
- [ ] flag `--dry-run`
- [ ] T012 [P] Create model in src/models/agent.py

| Endpoint | Purpose |
|---|---|
| GET /api/agents | list |

- **FR-001**: System MUST store `AGENT_TOKEN`.

```go
// code blocks are examples, not requirements: `NotARequirement`
```

### Requirement: Offline detection
The system SHALL mark agents offline.

#### Scenario: missed beats
- WHEN no heartbeat for `3` intervals THEN status is `offline`

## Non-goals
- `GET /api/agents/export`
"""


def by_kind(spec):
    out = {}
    for r in spec.requirements:
        out.setdefault(r.kind, []).append(r)
    return out


def test_kinds_and_lines():
    spec = parse_markdown("docs/ideas/agents.md", SPEC)
    got = [(r.kind, r.line, tuple(a.value for a in r.anchors)) for r in spec.requirements]
    assert (Kind.ENDPOINT, 3, ("POST /api/agents/{id}/heartbeat",)) in got
    assert (Kind.SYMBOL, 4, ("heartbeat.interval",)) in got  # second line of the paragraph
    where = {a.value: a.where for r in spec.requirements for a in r.anchors}
    assert where["heartbeat.interval"] == "config/agent.yaml"  # the file says where to look, not a requirement
    assert "config/agent.yaml" not in where
    assert (Kind.PROSE, 6, ()) in got
    assert (Kind.CHECKLIST, 8, ("AgentService",)) in got
    assert (Kind.CHECKLIST, 9, ("--dry-run",)) in got
    assert (Kind.TASK, 10, ("src/models/agent.py",)) in got
    assert (Kind.ENDPOINT, 14, ("GET /api/agents",)) in got  # table row, plain text
    assert (Kind.FR, 16, ("AGENT_TOKEN",)) in got
    assert spec.title == "Agents"


def test_checklist_state_labels_and_openspec():
    kinds = by_kind(parse_markdown("s.md", SPEC))
    assert [r.checked for r in kinds[Kind.CHECKLIST]] == [True, False]
    assert kinds[Kind.TASK][0].label == "T012" and kinds[Kind.TASK][0].checked is False
    assert kinds[Kind.FR][0].label == "FR-001"
    (req,) = kinds[Kind.OPENSPEC_REQUIREMENT]
    (scen,) = kinds[Kind.OPENSPEC_SCENARIO]
    assert (req.label, req.line, scen.label, scen.line) == ("Offline detection", 22, "missed beats", 25)
    assert [a.value for a in req.anchors] == ["offline"]  # folded in from its scenario


def test_code_blocks_and_non_goals_hold_no_requirements():
    spec = parse_markdown("s.md", SPEC)
    values = [a.value for r in spec.requirements for a in r.anchors]
    assert "NotARequirement" not in values
    assert "GET /api/agents/export" not in values
    assert spec.excluded == 1


def test_classify():
    assert classify("POST /api/x/{id}").kind is Kind.ENDPOINT
    assert classify("/healthz").value == "ANY /healthz"
    assert classify("--session-ttl=5m").value == "--session-ttl"
    assert classify("internal/auth/").kind is Kind.PATH
    assert classify("Makefile") is None or classify("Makefile").kind is Kind.SYMBOL
    assert classify("AGENT_TOKEN").subkind == "env"
    assert classify("parse()").subkind == "function"
    assert classify("http_requests_total").subkind == "metric"
    assert classify("server.port").subkind == "config"
    assert classify("AgentService").subkind == "type"
    for noise in ("true", "null", "go run .", "x", "https://example.com/a", "/etc/app.conf", "42", "0/6", "3/4",
                  "foo/bar.py", "src/foo.py"):
        assert classify(noise) is None, noise
    for name in ("apps/web/capture-bar.tsx", "status-bar.ts", "src/foo-service/main.go"):
        assert classify(name).kind is Kind.PATH, name  # placeholders are words of their own, not parts of names


def test_the_openspec_archive_placeholder_and_a_bare_script_runner_ask_for_nothing():
    text = ("# composer Specification\n\n## Purpose\nTBD - created by archiving change add-composer. "
            "Update Purpose after archive.\n\n## Requirements\n### Requirement: Submit\n"
            "The composer SHALL submit the draft with `submit_draft()`.\n\nTo list the scripts:\n\n"
            "```bash\nbun run\nnpm run --silent\nbun run build:web\n```\n")
    reqs = parse_markdown("openspec/specs/composer/spec.md", text).requirements
    assert not [r for r in reqs if "Purpose" in r.text]
    commands = [a.value for r in reqs for a in r.anchors if a.kind is Kind.COMMAND]
    assert commands == ["bun run build:web"]
    assert any(a.value == "submit_draft()" for r in reqs for a in r.anchors)


def test_duplicate_anchors_count_once():
    spec = parse_markdown("s.md", "Use `FooBar`.\n\nAgain `FooBar`.\n")
    assert len(spec.requirements) == 1 and spec.requirements[0].line == 1


def test_gherkin_scenarios_steps_tags():
    text = """\
@billing
Feature: Invoices
  Background:
    Given a tenant

  Scenario: Create an invoice
    When the client sends POST /api/invoices
    Then `InvoiceCreated` is emitted

  @wip
  Scenario: Void an invoice
    When they void it

  Scenario Outline: Pay <n> invoices
    Given <n> invoices
    Examples:
      | n |
      | 1 |
"""
    spec = parse_gherkin("features/invoices.feature", text)
    reqs = spec.requirements
    assert [(r.label, r.line) for r in reqs] == [("Create an invoice", 6), ("Pay <n> invoices", 14)]
    assert [a.value for a in reqs[0].anchors] == ["POST /api/invoices", "InvoiceCreated"]
    assert spec.excluded == 1 and spec.title == "Invoices"


def test_gherkin_fence_in_markdown():
    spec = parse_markdown("s.md", "# S\n\n```gherkin\nScenario: Log in\n  When POST /api/login\n```\n")
    (r,) = spec.requirements
    assert r.kind is Kind.SCENARIO and r.line == 4


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_markdown_parser_never_raises_and_lines_are_in_range(text):
    spec = parse_spec("docs/x.md", text)
    n = text.count("\n") + 1
    for r in spec.requirements:
        assert 1 <= r.line <= n + 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("`-[]x #|*:/{}()GETPOSabc_.\n\t>123"))))
def test_markdown_parser_on_markdown_like_noise(text):
    parse_markdown("s.md", text)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_gherkin_parser_never_raises(text):
    parse_gherkin("f.feature", text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_classify_never_raises(text):
    a = classify(text)
    assert a is None or a.value


def test_plain_words_next_to_a_code_noun_are_names_in_code():
    spec = parse_markdown("s.md", "Rows go to the `invoices` table; run `kubectl` first; the field `status` too.\n")
    sub = {a.value: a.subkind for r in spec.requirements for a in r.anchors}
    assert sub == {"invoices": "table", "kubectl": "word", "status": "identifier"}  # a table is a kind of name


def test_html_comments_and_inline_html_hold_no_requirements():
    spec = parse_markdown("s.md", "# S\n\n<!--\n  ACTION REQUIRED: replace `PlaceholderType` and `GET /example`\n-->\n\n"
                                  "- Real: `RealType` <!-- not `Hidden` --> <b>bold</b>\n")
    assert [a.value for r in spec.requirements for a in r.anchors] == ["RealType"]
    assert spec.requirements[0].line == 7


def test_front_matter_is_metadata():
    spec = parse_markdown("s.md", "---\ntitle: Must `NotThis`\nsidebar_position: 2\n---\n# Real\n\n- `ThisOne`\n")
    assert [(a.value, r.line) for r in spec.requirements for a in r.anchors] == [("ThisOne", 7)]
    assert spec.title == "Real"


def test_code_blocks_in_languages_whose_comments_have_other_names_are_read():
    # Java, Kotlin and Rust grammars call comments line_comment / block_comment: a block in them must
    # neither crash the parser nor lose its declarations
    spec = parse_spec("docs/x.md", "# X\n\n```java\n// the registry\npublic class AgentRegistry {}\n```\n\n"
                                   "```rust\n/// a unit\npub struct Meter;\n```\n")
    names = {a.value for r in spec.requirements for a in r.anchors}
    assert {"AgentRegistry", "Meter"} <= names


@pytest.mark.parametrize("text, expected", [
    ("THEN `src/a.ts` no longer exists AND `src/b.ts` no longer exists", {"src/a.ts": "removed", "src/b.ts": "removed"}),
    ("`a.py`, `b.py`, and `c.py` are deleted.", {"a.py": "removed", "b.py": "removed", "c.py": "removed"}),
    ("`src/old.py` is removed from the repository.", {"src/old.py": "removed"}),
    ("`LegacyClient` no longer exists.", {"LegacyClient": "removed"}),
    ("The server does not require `legacy_token` cookies.", {"legacy_token": "unused"}),
    ("`redux` is no longer used.", {"redux": "unused"}),
    # what happens at run time, or a condition: the named thing must exist
    ("When the user logs out, the `Session` is deleted.", {"Session": ""}),
    ("`Session` is deleted from Redis on logout.", {"Session": ""}),
    ("THEN the `Draft` is deleted", {"Draft": ""}),
    ("The `cache.json` file is dropped and recreated on start.", {"cache.json": ""}),
    ("`LegacyClient` is removed.", {"LegacyClient": ""}),
    ("It SHALL NOT expose `password_hash`.", {"password_hash": ""}),
    ("Workers must not call `send_receipt` twice.", {"send_receipt": ""}),
    ("Clients should not call `/internal/debug` directly.", {"ANY /internal/debug": ""}),
    ("Expected: FAIL — current code doesn't check `task.runner`.", {"task.runner": ""}),
    ("For packages that don't use `mdatagen`, gates are defined by hand.", {"mdatagen": ""}),
    ("Exporters lose batching once `batchprocessor` is removed.", {"batchprocessor": ""}),
    ("To make this work, remove the `builtinassets` tag.", {"builtinassets": ""}),
    ("`sessions.json` no longer exists until the first login.", {"sessions.json": ""}),
    ("`retry()` no longer exists as a public function.", {"retry()": ""}),
    ("Code must not use `print()` except in the CLI.", {"print()": ""}),
    ("`API_KEY` is no longer required.", {"API_KEY": ""}),  # optional, not unused
])
def test_what_a_sentence_says_is_gone(text, expected):
    spec = parse_markdown("docs/s.md", text + "\n")
    assert {a.value: a.absent for r in spec.requirements for a in r.anchors} == expected


@pytest.mark.parametrize("task, expected", [
    ("- [ ] T045 Remove placeholder `add()` function if still present", {"add()": "removed"}),
    ("- [ ] Remove `src/legacy/importer.py` once callers use the new streaming importer",
     {"src/legacy/importer.py": "removed"}),
    ("- [ ] Remove `a.py`, `b.py`, and `c.py`", {"a.py": "removed", "b.py": "removed", "c.py": "removed"}),
    ("- [x] T013 Delete `Session` on logout", {"Session": ""}),  # what the program does
    ("- [x] Delete the `run_session` helper", {"run_session": "removed"}),
    ("- [ ] Remove unused imports from `src/app.py`", {"src/app.py": ""}),  # the imports go, not the file
    ("- [ ] Remove the call to `legacy_init()`", {"legacy_init()": ""}),
    ("- [ ] Remove `Cache` entries on logout", {"Cache": ""}),
])
def test_a_task_that_removes_something(task, expected):
    spec = parse_markdown("specs/001-x/tasks.md", "# Tasks\n\n" + task + "\n")
    assert {a.value: a.absent for r in spec.requirements for a in r.anchors} == expected


def test_a_task_list_asks_for_its_tasks_not_for_its_templates_scaffolding():
    text = ("# Tasks: Paths\n\n**Input**: Design documents from `/specs/001-paths/`\n\n"
            "## Format: `[ID] [P?] [Story] Description`\n\n- **[P]**: Can run in parallel (different files)\n\n"
            "## Phase 1: Setup\n\n**Purpose**: Project initialization and basic structure\n\n"
            "- [x] T001 Create `src/lib.rs`\n- [x] T002 [P] Add `detect()` in src/lib.rs\n"
            "- [ ] T003 Implement `to_logical()` in src/lib.rs\n\n"
            "**Checkpoint**: Foundation ready - user story implementation can now begin\n\n"
            "## Dependencies & Execution Order\n\n- US2 and US3 can proceed in parallel since they are independent\n"
            "- Implementation follows Red-Green-Refactor cycle\n")
    spec = parse_markdown("specs/001-paths/tasks.md", text)
    assert [r.label for r in spec.requirements if r.kind is Kind.TASK] == ["T001", "T002", "T003"]
    assert not [r for r in spec.requirements if r.kind is Kind.PROSE]  # what names something stays (the Input folder)
    assert spec.excluded == 0  # (not a non-goal: it was never asked for)
    # the same lines in another document are read as they always were
    other = parse_markdown("docs/guide.md", text)
    assert len(other.requirements) > 3


def test_a_plans_constitution_check_gates_the_process_not_the_code():
    text = ("# Implementation Plan\n\n## Constitution Check\n\n*GATE: Must pass before Phase 0 research.*\n\n"
            "- Library-first: the feature MUST start as a standalone library\n\n"
            "## Technical Context\n\nThe service MUST expose `GET /api/paths`.\n")
    spec = parse_markdown("specs/001-paths/plan.md", text)
    assert [a.value for r in spec.requirements for a in r.anchors] == ["GET /api/paths"]
