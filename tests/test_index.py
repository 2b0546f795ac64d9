"""The per-file index built from the parse tree: symbols, references, regions, markers, routes."""
import textwrap

import pytest
from hypothesis import given, settings, strategies as st

from bot.engine import ConfigError, grammar
from bot.engine.index import Symbol, build_index, split_identifier
from bot.engine.rules import builtin_packs, load_pack, select


def index(path: str, source: str):
    src = textwrap.dedent(source).lstrip("\n")
    return build_index(path, src.encode(), select(None, [path]))


def sym(fi, name, owner=None) -> Symbol:
    found = [s for s in fi.symbols if s.name == name and (owner is None or s.owner == owner)]
    assert len(found) == 1, (name, owner, found)
    return found[0]


def region(fi, name):
    return next(r for r in fi.regions if r.name == name)


# ---- Python -------------------------------------------------------------------------------------
PY = '''
"""Payment capture and refunds."""
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

__all__ = ["KafkaBrokerConfig", "exported_only"]
MAX_RETRIES = 3


class State(Enum):
    PENDING = "pending"
    SETTLED = "settled"


@dataclass
class KafkaBrokerConfig:
    """Where payment events go."""
    topic: str
    partitions: int = 1


class Gateway(ABC):
    def __init__(self, name, *, retries=MAX_RETRIES):
        self.name = name

    @abstractmethod
    def capture(self, payment_id):
        raise NotImplementedError


class Store(Protocol):
    def get(self, key: str) -> bytes: ...


def unused_helper(a, b=2):
    # TODO: retry on 503
    pass


def exported_only():
    raise NotImplementedError("later")


def refund(payment_id: int, reason: str = "") -> dict:
    """Give the money back."""
    sql = "CREATE TABLE IF NOT EXISTS refunds (id INTEGER PRIMARY KEY, payment_id INTEGER, reason TEXT)"
    note = "TODO: this is a string, not a comment"
    return {"id": payment_id, "sql": sql, "note": note, "config": KafkaBrokerConfig(topic="x")}
'''


@pytest.fixture(scope="module")
def py():
    return index("shop/payments/api.py", PY)


def test_python_symbols_kinds_owners_and_params(py):
    assert sym(py, "MAX_RETRIES").kind == "constant"
    assert (sym(py, "State").kind, sym(py, "PENDING").kind, sym(py, "PENDING").owner) == ("enum", "enum_member", "State")
    cfg = sym(py, "KafkaBrokerConfig")
    assert cfg.kind == "class" and cfg.decorated and cfg.params == ("topic", "partitions")
    assert (sym(py, "topic").kind, sym(py, "topic").owner) == ("field", "KafkaBrokerConfig")
    gateway = sym(py, "Gateway")
    assert gateway.params == ("name", "retries") and gateway.abstract
    assert sym(py, "__init__").kind == "method" and sym(py, "__init__").params == ("name", "retries")
    refund = sym(py, "refund")
    assert (refund.kind, refund.owner, refund.params, refund.line, refund.end_line) == \
        ("function", "", ("payment_id", "reason"), 45, 49)
    assert sym(py, "Store").kind == "interface"


def test_python_abstract_is_never_a_stub(py):
    capture = sym(py, "capture", "Gateway")
    assert capture.abstract and not capture.stub and capture.decorated
    assert sym(py, "get", "Store").abstract and not sym(py, "get", "Store").stub
    assert sym(py, "unused_helper").stub and sym(py, "exported_only").stub
    assert not sym(py, "refund").stub
    # markers: the TODO comment, the pass stub and the raise outside an abstract method — nothing else
    assert [(ln, kind) for ln, kind, _ in py.markers] == [(36, "stub"), (37, "todo"), (42, "stub")]


def test_python_refnames_leave_out_names_only_defined(py):
    assert "unused_helper" not in py.refnames and "refund" not in py.refnames
    assert "KafkaBrokerConfig" in py.refnames  # used in refund() and listed in __all__
    assert "exported_only" in py.refnames  # only listed in __all__
    assert {"ABC", "abstractmethod", "dataclass", "Enum", "Protocol", "MAX_RETRIES"} <= py.refnames
    assert "unused_helper" in py.tokens and py.defs["unused_helper"] == 36


def test_python_sql_in_a_string_defines_a_table_and_columns(py):
    table = sym(py, "refunds")
    assert (table.kind, table.params, table.line) == ("table", ("id", "payment_id", "reason"), 47)
    assert (sym(py, "reason", "refunds").kind, sym(py, "payment_id", "refunds").kind) == ("column", "column")


def test_python_regions(py):
    r = region(py, "refund")
    assert (r.kind, r.line, r.end_line) == ("function", 45, 49)
    assert r.words[:1] == ("refund",)
    assert {"payment", "id", "reason", "give", "money", "back", "create", "table", "refunds", "kafka", "broker"} <= set(r.words)
    module = py.regions[0]
    assert module.kind == "module" and module.name == "api.py"
    assert {"shop", "payments", "api", "capture", "refunds", "kafka", "broker", "config", "unused", "helper"} <= set(module.words)
    assert all(w == w.lower() and len(w) > 1 for reg in py.regions for w in reg.words)
    assert {r.name for r in py.regions} >= {"api.py", "State", "KafkaBrokerConfig", "Gateway", "capture", "refund"}


def test_python_strings_tokens_and_comment_tokens(py):
    assert py.strings["pending"] == 12
    assert "TODO" in py.comment_tokens and "retry" in py.comment_tokens
    assert "retry" not in py.tokens


def test_python_routes_with_router_prefix():
    fi = index("app/users.py", '''
        from fastapi import APIRouter
        router = APIRouter(prefix="/users", tags=["users"])

        @router.get("/{user_id}")
        async def get_user(user_id: int):
            return {}
        ''')
    assert {(r.method, r.norm, r.line) for r in fi.routes} == {("GET", "/{}", 4), ("GET", "/users/{}", 4)}


# ---- Go -----------------------------------------------------------------------------------------
GO = '''
// Package agents tracks agent heartbeats.
package agents

import (
	"context"
	"github.com/acme/fleet/internal/store"
)

const DefaultTimeout = 5

// Store keeps agents.
type Store interface {
	Get(ctx context.Context, id string) (Agent, error)
}

type Agent struct {
	ID, Name string
	LastSeen int64 `json:"last_seen"`
}

type Service struct{ store Store }

func (s *Service) Heartbeat(ctx context.Context, id string) error {
	panic("not implemented")
}

func NewService(st Store) *Service { return &Service{store: st} }

func unused() {}

func Routes(r chi.Router, g *gin.Engine) {
	r.Route("/api", func(r chi.Router) {
		r.Post("/agents/{id}/heartbeat", heartbeat)
	})
	v1 := g.Group("/v1")
	v1.GET("/agents/:id", get)
	// TODO: metrics endpoint
}
'''


def test_go_symbols_owners_and_abstract():
    fi = index("internal/agents/service.go", GO)
    assert sym(fi, "Store").kind == "interface" and sym(fi, "Get").abstract and sym(fi, "Get").owner == "Store"
    assert sym(fi, "Agent").kind == "struct" and sym(fi, "Agent").params == ("ID", "Name", "LastSeen")
    hb = sym(fi, "Heartbeat")
    assert (hb.kind, hb.owner, hb.params, hb.stub, hb.abstract) == ("method", "Service", ("ctx", "id"), True, False)
    assert sym(fi, "DefaultTimeout").kind == "constant"
    assert "unused" not in fi.refnames and "NewService" not in fi.refnames and "Store" in fi.refnames
    assert [r.target for r in fi.refs] == ["github.com/acme/fleet/internal/store"]  # not the standard library
    assert {(r.method, r.norm) for r in fi.routes} >= {("POST", "/api/agents/{}/heartbeat"), ("GET", "/v1/agents/{}")}
    assert [(ln, kind) for ln, kind, _ in fi.markers] == [(24, "stub"), (37, "todo")]
    assert {"agents", "tracks", "heartbeats"} <= set(fi.regions[0].words)
    assert {"store", "keeps", "agents", "get", "ctx", "context"} <= set(region(fi, "Store").words)


def test_fast_rules_find_what_ast_grep_finds():
    """Rules of the {kind, has} shape are read off the collected nodes: same matches as a search."""
    go = builtin_packs()["go"]
    rule = next(r for r in go.references if r.id == "go-import")
    assert rule.fast is not None
    src = textwrap.dedent(GO)
    searched = [m.get_match("TARGET").text() for m in rule.find(grammar.parse(src, "go"), "go", src)]
    assert searched == ['"github.com/acme/fleet/internal/store"']
    assert [r.target for r in index("a/b.go", GO).refs] == [t.strip('"') for t in searched]


# ---- TypeScript, Java, Kotlin, Rust, C#, Ruby --------------------------------------------------
def test_typescript_classes_interfaces_enums_and_nest_routes():
    fi = index("src/users/users.controller.ts", '''
        import { Injectable } from '@nestjs/common';
        @Controller('api/users')
        export class UsersController {
          private readonly cache = new Map<string, User>();
          constructor(private svc: UserService, retries = 3) {}
          @Get(':id')
          get(@Param('id') id: string) { return this.svc.find(id); }
          abstract sync(): void;
          later() { throw new Error('not implemented'); }
        }
        export interface Store { get(key: string): Promise<User>; size: number }
        enum Color { Red, Green = 2 }
        export const handler = async (req, res) => res.send(req.body);
        ''')
    ctl = sym(fi, "UsersController")
    assert ctl.decorated and ctl.params == ("svc", "retries", "cache")
    assert sym(fi, "sync").abstract and not sym(fi, "sync").stub
    assert sym(fi, "later").stub
    assert sym(fi, "get", "Store").abstract and sym(fi, "size").kind == "field"
    assert (sym(fi, "Green").kind, sym(fi, "Green").owner) == ("enum_member", "Color")
    assert (sym(fi, "handler").kind, sym(fi, "handler").params) == ("function", ("req", "res"))
    assert ("GET", "/api/users/{}", 6) in {(r.method, r.norm, r.line) for r in fi.routes}
    assert [r.target for r in fi.refs] == ["@nestjs/common"]


def test_java_abstract_records_and_spring_prefix():
    fi = index("src/main/java/com/acme/UserController.java", '''
        package com.acme;
        import com.acme.auth.TokenService;
        @RestController
        @RequestMapping("/api")
        public class UserController {
            public static final String HEADER = "X-Agent";
            public UserController(TokenService tokens) {}
            @GetMapping("/users/{id}")
            public User get(@PathVariable String id) { return null; }
            public void later() { throw new UnsupportedOperationException(); }
        }
        interface Repo { User find(String id); }
        abstract class Job { abstract void run(); }
        record Heartbeat(String agentId, long at) {}
        ''')
    assert sym(fi, "HEADER").kind == "constant"
    assert sym(fi, "UserController").params == ("tokens", "HEADER")
    assert sym(fi, "later").stub and sym(fi, "find").abstract and sym(fi, "run").abstract
    assert not sym(fi, "run").stub and sym(fi, "Job").abstract
    assert sym(fi, "Heartbeat").params == ("agentId", "at")
    assert ("GET", "/api/users/{}", 8) in {(r.method, r.norm, r.line) for r in fi.routes}
    assert [(r.style, r.target) for r in fi.refs] == [("dotted", "com.acme.auth.TokenService")]


def test_kotlin_rust_csharp_ruby():
    kt = index("src/main/kotlin/C.kt", '''
        data class Cfg(val topic: String, val n: Int = 1)
        interface Store { fun get(key: String): String }
        fun later(): Int = TODO("later")
        ''')
    assert sym(kt, "Cfg").params == ("topic", "n") and sym(kt, "get").abstract and sym(kt, "later").stub
    rs = index("src/store.rs", '''
        pub trait Repo { fn get(&self, id: u32) -> u32; }
        pub struct Mem { items: Vec<u32> }
        impl Repo for Mem { fn get(&self, id: u32) -> u32 { todo!() } }
        ''')
    assert sym(rs, "get", "Repo").abstract and sym(rs, "get", "Mem").stub and sym(rs, "Mem").params == ("items",)
    cs = index("src/Users/Users.cs", '''
        public interface IStore { void Run(int x); }
        public record Hb(string Id, int N);
        public class Users { public const int Max = 3; public int Later() => throw new NotImplementedException(); }
        ''')
    assert sym(cs, "Run").abstract and sym(cs, "Hb").params == ("Id", "N")
    assert sym(cs, "Max").kind == "constant" and sym(cs, "Later").stub
    rb = index("app/models/agent.rb", '''
        class Agent < Base
          MAX = 3
          def initialize(name, opts = {})
            @name = name
          end
          def heartbeat
            raise NotImplementedError
          end
          def noop; end
        end
        ''')
    assert sym(rb, "Agent").params == ("name", "opts", "MAX")
    assert sym(rb, "heartbeat").stub and not sym(rb, "noop").abstract and not sym(rb, "noop").stub


# ---- packs without a parser ---------------------------------------------------------------------
def test_sql_files_define_tables_and_columns():
    fi = index("db/001_agents.sql", '''
        -- agents and their heartbeats
        CREATE TABLE IF NOT EXISTS agent_heartbeats (
          id BIGSERIAL PRIMARY KEY,
          agent_id TEXT NOT NULL REFERENCES agents(id),
          seen_at TIMESTAMPTZ,
          CONSTRAINT one_per_second UNIQUE (agent_id, seen_at)
        );
        CREATE INDEX idx_hb_agent ON agent_heartbeats (agent_id);
        ''')
    table = sym(fi, "agent_heartbeats")
    assert (table.kind, table.params, table.line, table.end_line) == ("table", ("id", "agent_id", "seen_at"), 2, 7)
    assert (sym(fi, "seen_at").kind, sym(fi, "seen_at").owner, sym(fi, "seen_at").line) == ("column", "agent_heartbeats", 5)
    assert sym(fi, "idx_hb_agent").kind == "type"


def test_makefile_targets_are_picked_by_file_name():
    fi = index("Makefile", '''
        VERSION := 1.2
        .PHONY: perf-baseline
        perf-baseline: build
        \t./bench --baseline
        ''')
    assert fi.lang == "make"
    assert sym(fi, "perf-baseline").kind == "target" and sym(fi, "VERSION").kind == "variable"
    assert index("build/rules.mk", "all: x\n").lang == "make"


def test_split_identifier():
    assert split_identifier("HTTPServerError") == ["http", "server", "error"]
    assert split_identifier("max_retries") == ["max", "retries"]
    assert split_identifier("dead-letter") == ["dead", "letter"]
    assert split_identifier("parseV2Config") == ["parse", "v", "2", "config"]
    assert split_identifier("getHTTPResponse") == ["get", "http", "response"]


# ---- rule packs with ast rules --------------------------------------------------------------------
PACK = """\
pack: custom
description: test
extensions: [".py"]
parser: {parser}
rules:
  routes:
    - id: house-route
      description: d
      ast: {ast}
      examples: {{pass: ["a"], fail: ["b"]}}
"""


def test_ast_rule_that_does_not_compile_is_a_config_error_with_its_place():
    with pytest.raises(ConfigError) as e:
        load_pack(PACK.format(parser="python", ast="{kind: no_such_kind, pattern: $PATH}"), "rules/custom.yml")
    p = e.value.first
    assert (p.line, p.path) == (9, "rules.routes[0].ast") and "does not compile for python" in p.message


def test_ast_rule_needs_the_metavariables_of_its_category():
    with pytest.raises(ConfigError) as e:
        load_pack(PACK.format(parser="python", ast="'house.route($P)'"), "rules/custom.yml")
    assert "needs the metavariable $PATH" in e.value.first.message


def test_unknown_parser_is_a_config_error_with_the_choices():
    with pytest.raises(ConfigError) as e:
        load_pack(PACK.format(parser="cobol", ast="'house.route($PATH)'"), "rules/custom.yml")
    assert "no parser 'cobol'" in e.value.first.message and "python" in e.value.first.hint


def test_custom_ast_rule_extends_a_builtin_pack():
    child = load_pack("pack: py-house\ndescription: d\nextends: [python]\nparser: python\nrules:\n  routes:\n"
                      "    - id: house-route\n      description: d\n      ast: house.route($PATH)\n"
                      "      examples: {pass: ['house.route(\"/x\")'], fail: ['x']}\n", "rules/py-house.yml")
    rs = select(["py-house"], ["a.py"], [child])
    fi = build_index("a.py", b'# house.route("/commented")\nhouse.route("/x")\n@app.get("/y")\ndef y(): ...\n', rs)
    assert sorted(r.norm for r in fi.routes) == ["/x", "/y"]


# ---- robustness -----------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["a.py", "a.go", "a.ts", "a.java", "a.rs", "a.rb", "a.cs", "a.kt"]),
       st.lists(st.sampled_from(list("abc_XY(){}[]:;.,=\"'`#/*\\\n\t @$!<>-+") + [
           "def ", "class ", "func ", "fn ", "TODO", "pass", "return ", "é", "\u2028"]), max_size=120).map("".join))
def test_any_text_indexes_without_raising(path, text):
    fi = build_index(path, text.encode(), select(None, [path]))
    assert fi.kind in ("code", "minified")
    for s in fi.symbols:
        assert 1 <= s.line <= s.end_line
    for r in fi.regions:
        assert len(r.words) <= 400


def test_an_unquoted_pattern_with_a_comma_in_a_flow_mapping_gets_a_hint():
    with pytest.raises(ConfigError) as e:
        load_pack(PACK.format(parser="python", ast="{kind: call, has: {pattern: f($PATH, $$$)}}"), "rules/custom.yml")
    p = e.value.first
    assert "unknown key '$$$)'" in p.message and "quote a value that holds a comma" in p.hint


def test_a_parser_failure_falls_back_to_reading_the_text(monkeypatch):
    from bot.engine import treeindex

    def boom(*a, **k):
        raise RuntimeError("parser crashed")
    monkeypatch.setattr(treeindex, "index_tree", boom)
    fi = index("a/b.py", "def f():\n    # TODO: x\n    return 1\n")
    assert fi.kind == "code" and "f" in fi.tokens and [m[1] for m in fi.markers] == ["todo"]


def test_a_pack_with_a_parser_describes_its_tree():
    with pytest.raises(ConfigError) as e:
        load_pack(PACK.format(parser="python", ast="'house.route($PATH)'"), "rules/custom.yml")
    assert e.value.first.path == "syntax.tree"


def test_only_the_file_region_is_kind_module():
    fi = index("src/lib.rs", "mod inner {\n    pub fn helper() {}\n}\n")
    assert sym(fi, "inner").kind == "module"
    assert (sym(fi, "helper").kind, sym(fi, "helper").owner) == ("function", "inner")
    assert [(r.kind, r.name) for r in fi.regions] == [("module", "lib.rs"), ("function", "helper")]


def test_indexing_leaves_nothing_for_the_cyclic_collector():
    """An indexing worker runs without the cyclic collector, and so does the App's evaluation: what
    indexing a file leaves must be freed by reference counting alone, or each file's definitions, and
    through their nodes its whole parse tree, stay until the process ends."""
    import gc
    files = {
        "internal/api/server.go": 'package api\n\ntype Server struct {\n\tName string\n\tPort int\n}\n\n'
                                  'func (s *Server) Routes(r Router) {\n\tv1 := r.Group("/api/v1")\n'
                                  '\tv1.GET("/users", s.List)\n\tr.Get("/health", s.Health)\n}\n',
        "app/models.py": 'class Account:\n    """An account."""\n    class Meta:\n        ordering = ["id"]\n\n'
                         '    def close(self):\n        def inner():\n            pass\n        return inner\n',
        "src/Shop.java": "class Shop {\n  enum State { OPEN, CLOSED }\n  class Cart { void add() {} }\n}\n",
        "deploy/values.yaml": "service:\n  port: 8080\n  env:\n    - name: LOG_LEVEL\n      value: debug\n",
    }
    ruleset = select(None, list(files))
    for path, text in files.items():  # once first: what a first call caches (compiled patterns) is not garbage
        build_index(path, text.encode(), ruleset)
    was = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        for path, text in files.items():
            fi = build_index(path, text.encode(), ruleset)
            assert fi.symbols or fi.defs  # indexed for real
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()
