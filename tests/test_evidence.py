"""Endpoint matching across frameworks and path-parameter syntaxes; symbol scopes."""
import pytest

from bot.engine import Status
from tests.conftest import analyse, feature, requirement

ROUTES = [
    ("go net/http 1.22", "internal/users/h.go", 'package users\nfunc R(m *http.ServeMux) {\n\tm.HandleFunc("GET /api/users/{id}", get)\n}\n', 3),
    ("gorilla mux", "internal/users/h.go", 'package users\nfunc R(r *mux.Router) {\n\tr.HandleFunc("/api/users/{id:[0-9]+}", get).Methods("GET")\n}\n', 3),
    ("chi", "internal/users/h.go", 'package users\nfunc R(r chi.Router) {\n\tr.Get("/api/users/{userID}", get)\n}\n', 3),
    ("gin", "internal/users/h.go", 'package users\nfunc R(r *gin.Engine) {\n\tr.GET("/api/users/:id", get)\n}\n', 3),
    ("flask", "src/users/views.py", 'from flask import Blueprint\nbp = Blueprint("u", __name__)\n\n@bp.route("/api/users/<int:user_id>", methods=["GET"])\ndef get(user_id):\n    return {}\n', 4),
    ("fastapi", "src/users/api.py", 'from fastapi import APIRouter\nrouter = APIRouter()\n\n@router.get("/api/users/{user_id}")\nasync def get(user_id: int):\n    return {}\n', 4),
    ("django", "src/users/urls.py", 'from django.urls import path\nurlpatterns = [\n    path("api/users/<int:pk>/", views.get),\n]\n', 3),
    ("express", "src/users/routes.js", "const router = require('express').Router();\nrouter.get('/api/users/:id', get);\n", 2),
    ("nest", "src/users/users.controller.ts", "@Controller('api/users')\nexport class UsersController {\n  @Get(':id')\n  get() {}\n}\n", 3),
    ("spring", "src/users/UserController.java", 'package x;\n@RestController\n@RequestMapping("/api")\npublic class UserController {\n    @GetMapping("/users/{id}")\n    public User get() { return null; }\n}\n', 5),
    ("axum", "src/users/mod.rs", 'pub fn router() -> Router {\n    Router::new()\n        .route("/api/users/:id", get(show))\n}\n', 3),
    ("actix", "src/users/handlers.rs", '#[get("/api/users/{id}")]\nasync fn show() -> impl Responder { "" }\n', 1),
    ("aspnet minimal", "src/Users/Endpoints.cs", 'app.MapGet("/api/users/{id:int}", Get);\n', 1),
    ("aspnet controller", "src/Users/UsersController.cs",
     '[Route("api/users")]\n[ApiController]\npublic class UsersController : ControllerBase\n{\n    [HttpGet("{id}")]\n'
     '    public IActionResult Get(int id) => Ok();\n}\n', 5),
    ("rails", "src/users/routes.rb", "Rails.application.routes.draw do\n  get '/api/users/:id', to: 'users#show'\nend\n", 2),
    ("jax-rs", "src/users/UserResource.java", 'package x;\n@Path("/api/users")\npublic class UserResource {\n    @GET\n    @Path("/{id}")\n    public User get() { return null; }\n}\n', 5),
]


@pytest.mark.parametrize("name,path,code,line", ROUTES, ids=[r[0] for r in ROUTES])
def test_endpoint_found_with_line(name, path, code, line):
    files = {"docs/features/users.md": "# Users\n\n- `GET /api/users/{id}` returns a user.\n", path: code}
    f = feature(analyse(files), "users")
    r = requirement(f, "GET /api/users/{id}")
    assert r.status is Status.MET, (r.detail, f.code_roots)
    assert (r.evidence[0].path, r.evidence[0].line) == (path, line)


def test_endpoint_registered_outside_the_feature_is_partial():
    files = {
        "docs/ideas/users.md": "# Users\n\n`POST /api/users`\n",
        "internal/users/users.go": "package users\n\ntype User struct{}\n",
        "internal/server/routes.go": 'package server\nfunc R(r chi.Router) {\n\tr.Post("/api/users", create)\n}\n',
    }
    r = requirement(feature(analyse(files), "users"), "POST /api/users")
    assert r.status is Status.PARTIAL
    assert r.evidence[0].path == "internal/server/routes.go" and r.evidence[0].line == 3


def test_symbol_scopes():
    files = {
        "docs/ideas/billing.md": "# Billing\n\n- `Invoice`\n- `Ledger`\n- `TaxTable`\n- `Rounding`\n- `Ghost`\n- `BILLING_URL`\n",
        "internal/billing/invoice.go": "package billing\n\n// Rounding is applied at the end.\ntype Invoice struct{}\n\nvar _ = shared.Ledger{}\n",
        "internal/billing/invoice_test.go": "package billing\n\nvar _ = TaxTable{}\n",
        "internal/shared/ledger.go": "package shared\n\ntype Ledger struct{}\n",
        "internal/billing/env.go": 'package billing\n\nvar url = os.Getenv("BILLING_URL")\n\nfunc URL() string { return url }\n',
    }
    f = feature(analyse(files), "billing")
    cases = {
        "Invoice": (Status.MET, "internal/billing/invoice.go", 4, "defined"),
        # a shared type the feature uses: the spec names what the feature relies on, and it does
        "Ledger": (Status.MET, "internal/billing/invoice.go", 6,
                   "used in the feature's code (defined in internal/shared/ledger.go)"),
        "TaxTable": (Status.PARTIAL, "internal/billing/invoice_test.go", 3, "mentioned only in tests"),
        "Rounding": (Status.MISSING, "internal/billing/invoice.go", 3, "mentioned only in comments"),
        "BILLING_URL": (Status.MET, "internal/billing/env.go", 3, "named in code"),
    }
    for anchor, (status, path, line, note) in cases.items():
        r = requirement(f, anchor)
        assert r.status is status, anchor
        assert (r.evidence[0].path, r.evidence[0].line, r.evidence[0].note) == (path, line, note), anchor
    ghost = requirement(f, "Ghost")
    assert ghost.status is Status.MISSING and ghost.evidence == ()
    assert "code file" in ghost.searched


def test_wired_from_is_checked_per_glob():
    files = {
        ".github/driftbot.yml": "version: 1\nfeatures:\n  - id: auth\n    spec: docs/auth.md\n    code: internal/auth/\n"
                                "    wired_from: [cmd/**, web/**]\n",
        "docs/auth.md": "# Auth\n\n`Login`\n",
        "internal/auth/auth.go": "package auth\n\nfunc Login() {}\n",
        "internal/auth/auth_test.go": "package auth\n",
        "cmd/api/main.go": 'package main\n\nimport "example.com/app/internal/auth"\n\nfunc main() { auth.Login() }\n',
    }
    f = feature(analyse(files), "auth")
    assert f.signals.wired_from_missing == ("web/**",)
    assert [g.message for g in f.gaps if g.kind.value == "not-wired"] == \
        ["nothing under web/** references the feature's code"]
    wiring = next(t for t in f.terms if t.signal == "wiring")
    assert wiring.value == 0.5


def test_plain_words_nothing_names_are_unverifiable_not_missing():
    files = {"docs/ideas/db.md": "# DB\n\n- Runs on `postgres`.\n- Rows go to the `ledger` table.\n- `Store` type.\n",
             "internal/db/store.go": "package db\n\ntype Store struct{}\n"}
    f = feature(analyse(files), "db")
    assert requirement(f, "postgres").status is Status.UNVERIFIABLE
    assert requirement(f, "ledger").status is Status.MISSING
    assert requirement(f, "Store").status is Status.MET


def test_wiring_through_rust_use_and_ruby_require_relative():
    files = {
        "docs/features/billing.md": "# Billing\n\n`Invoice`\n",
        "src/billing/mod.rs": "pub struct Invoice;\n",
        "src/billing/tests.rs": "",
        "src/main.rs": "use crate::billing::Invoice;\nfn main() {}\n",
        "docs/features/ledger.md": "# Ledger\n\n`Ledger`\n",
        "lib/ledger/ledger.rb": "class Ledger\nend\n",
        "lib/app.rb": "require_relative 'ledger/ledger'\n",
    }
    findings = analyse(files)
    assert feature(findings, "billing").signals.referenced_count == 1
    assert feature(findings, "ledger").signals.referenced_from[0].path == "lib/app.rb"


def test_library_symbols_the_feature_uses_are_met():
    files = {"docs/ideas/cache.md": "# Cache\n\n- Entries live in `Redis`.\n- `LocalCache` is a fallback.\n",
             "internal/cache/cache.go": 'package cache\n\nimport "github.com/redis/go-redis/v9"\n\n'
                                        "var client = redis.NewClient(nil)\nvar _ Redis = nil\nvar _ = LocalCache{}\n",
             "internal/shared/local.go": "package shared\n\ntype LocalCache struct{}\n"}
    f = feature(analyse(files), "cache")
    redis = requirement(f, "Redis")
    assert redis.status is Status.MET and "outside the repository" in redis.evidence[0].note
    local = requirement(f, "LocalCache")  # defined elsewhere in the repository, used by the feature
    assert local.status is Status.MET and "defined in internal/shared/local.go" in local.evidence[0].note


def test_speckit_plan_and_research_are_not_specs():
    findings = analyse({
        "specs/003-cart/spec.md": "# Cart\n\n- **FR-001**: System MUST expose `GET /cart`.\n",
        "specs/003-cart/plan.md": "# Plan\n\nBuilt with `FastAPI` and `SQLAlchemy`.\n",
        "specs/003-cart/research.md": "# Research\n\n`Redis` vs `Memcached`.\n",
        "src/cart/api.py": '@router.get("/cart")\ndef show():\n    return []\n',
    })
    (f,) = findings.features
    assert f.spec == ("specs/003-cart/spec.md",)
    assert [r.status.value for r in f.requirements] == ["met"]


def test_routes_with_parameters_where_the_spec_gives_values_are_found_by_their_shape():
    """The parameter match looks up the shapes a wanted route can take instead of reading every route
    of its length: it must find exactly what reading them all finds, in the same order."""
    import random
    from types import SimpleNamespace
    from bot.engine import evidence
    from bot.engine.lookup import Hit

    def by_reading_all(norm, by_len):
        want = norm.strip("/").split("/")
        out = []
        for i, (m, r, h) in enumerate(by_len.get(len(want), [])):
            got = r.strip("/").split("/")
            if got != want and all(g == w or g == "{}" for g, w in zip(got, want)) and \
                    any(g == w for g, w in zip(got, want)):
                out.append((sum(g == "{}" for g in got), i, m, r, h))
        out.sort(key=lambda x: (x[0], x[1]))
        return [(m, r, h) for _, _, m, r, h in out[:3]]

    rnd = random.Random(7)
    words = ["api", "v1", "items", "users", "{}", "orders", "alpha-1", ""]
    found = 0
    for _ in range(300):
        n = rnd.randint(1, 5)
        by_len: dict[int, list] = {}  # as the lookup keeps them: by their number of segments
        for k in range(rnd.randint(0, 40)):
            r = "/" + "/".join(rnd.choice(words) for _ in range(n))
            by_len.setdefault(len(r.strip("/").split("/")), []).append(
                (rnd.choice([None, "GET", "POST"]), r, Hit(f"f{k}.go", k + 1, "route", r)))
        scope = SimpleNamespace(repo=SimpleNamespace(routes_by_len=by_len))
        for _ in range(5):
            norm = "/" + "/".join(rnd.choice(words) for _ in range(n))
            got = evidence._by_parameters(norm, scope)
            assert got == by_reading_all(norm, by_len), (norm, by_len)
            found += bool(got)
    assert found > 100  # the comparison is not only of empty answers
    long = "/" + "/".join(f"s{k}" for k in range(12))  # too many segments for shapes: read them all
    routes = [(None, long.replace("s3", "{}"), Hit("a.go", 1, "route", long))]
    scope = SimpleNamespace(repo=SimpleNamespace(routes_by_len={12: routes}))
    assert evidence._by_parameters(long, scope) == by_reading_all(long, {12: routes}) != []


def test_a_name_in_a_string_is_the_first_reading_every_string_finds(monkeypatch):
    """``_in_strings`` searches all the short strings at once; it must answer as reading them one by
    one, in file order, would."""
    import random
    import re
    from bot.engine import evidence
    from bot.engine.evidence import Scope, _in_strings
    from bot.engine.index import FileIndex
    monkeypatch.setattr(evidence, "SHARED_FILES", 2)  # small bodies of code shared too
    words = ["user_id", "orders", "orders-v2", "x.orders", "orders.x", "a b c", "ORDERS", "order", "\n", "retry_count"]

    def reference(name, scope):
        if len(name) < 4:
            return None
        rx = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w-])")
        for path, fi in scope.code.items():
            for s, line in fi.strings.items():
                if name in s and len(s) <= 100 and "\n" not in s and s.count(" ") <= 6 and rx.search(s):
                    return (path, line)
        return None
    rnd = random.Random(7)
    for _ in range(300):
        code = {}
        for f in range(rnd.randint(0, 6)):
            strings = {}
            for _ in range(rnd.randint(0, 8)):
                s = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 9)))
                strings.setdefault(s[:rnd.choice([30, 120])], rnd.randint(1, 99))
            code[f"f{f}.go"] = FileIndex("code", "go", 1, {}, (), strings, frozenset(), frozenset(), (), ())
        held = {} if rnd.random() < 0.5 else None
        scope = Scope("f", code, {}, set(), set(), {}, None, (), (), corpora=held)
        for name in ["orders", "user_id", "retry", "orders-v2", "s\nu", "ord", "x.orders", "orders.x"]:
            got = _in_strings(name, scope)
            assert (None if got is None else (got.path, got.line)) == reference(name, scope)


def test_features_with_the_same_code_share_its_definitions_within_an_evaluation(monkeypatch):
    from bot.engine import evidence
    from bot.engine.evidence import Scope
    from bot.engine.index import FileIndex
    monkeypatch.setattr(evidence, "SHARED_FILES", 2)
    code = {f"f{i}.go": FileIndex("code", "go", 1, {f"SendOrder{i}": 3, f"retryQueue{i}": 9, "Run": 1}, (), {},
                                  frozenset(), frozenset(), (), ()) for i in range(3)}
    held: dict = {}
    a, b = (Scope(n, dict(code), {}, set(), set(), {}, None, (), (), corpora=held) for n in "ab")
    alone = Scope("c", dict(code), {}, set(), set(), {}, None, (), ())
    assert a.definitions() is b.definitions()
    assert alone.definitions() == a.definitions() and alone.definitions() is not a.definitions()
    assert a.definitions()[0]["order"] == [(f"SendOrder{i}", f"f{i}.go", 3) for i in range(3)]
    fewer = Scope("d", {"f0.go": code["f0.go"], "f1.go": code["f1.go"]}, {}, set(), set(), {}, None, (), (), corpora=held)
    assert fewer.definitions() is not a.definitions()


def test_shared_structures_of_one_body_of_code_do_not_mix(monkeypatch):
    """Definitions and strings of the same files are kept side by side: each under its own name."""
    from bot.engine import evidence
    from bot.engine.evidence import Scope, _in_strings
    from bot.engine.index import FileIndex
    monkeypatch.setattr(evidence, "SHARED_FILES", 2)
    code = {f"f{i}.go": FileIndex("code", "go", 1, {f"SendOrder{i}": 3}, (), {f"orders.{i}": 5}, frozenset(),
                                  frozenset(), (), ()) for i in range(3)}
    held: dict = {}
    alone = Scope("x", dict(code), {}, set(), set(), {}, None, (), ())
    for n in "ab":  # two features with the same code, each asking for both
        s = Scope(n, dict(code), {}, set(), set(), {}, None, (), (), corpora=held)
        assert s.definitions() == alone.definitions()
        assert _in_strings("orders", s) == _in_strings("orders", alone) is not None
    assert len(held) == 2


def test_what_the_spec_says_is_gone_is_met_when_gone_and_a_gap_when_still_there():
    files = {
        "docs/features/composer.md": (
            "# Composer\n\n"
            "- `src/composer/old_form.py` no longer exists.\n"
            "- Both `src/composer/capture-bar.py` and `src/composer/inline_form.py` are deleted.\n"
            "- The server does not require `legacy_access_token` cookies.\n"
            "- Feature code does not branch on `PLATFORM_OS`.\n"
            "- When the `Draft` is deleted the editor closes.\n"
            "- [ ] Remove `src/composer/shim.py`\n"
            "- To try it, remove the `compose_cache` folder.\n"),
        "src/composer/old_form.py": "def old_form():\n    return 1\n",
        "src/composer/inline_form.py": "def inline_form():\n    return 2\n",
        "src/composer/draft.py": "PLATFORM_OS = 'web'\n\nclass Draft:\n    def close(self):\n        pass\n",
        "src/composer/shim.py": "def shim():\n    pass\n",
    }
    f = feature(analyse(files), "composer")
    old = requirement(f, "src/composer/old_form.py")
    assert old.status is Status.MISSING and "still there" in old.detail  # the spec says it is gone: it is not
    # one of the two is gone (a `-bar.` file name is no placeholder)
    assert requirement(f, "src/composer/capture-bar.py").status is Status.MET
    assert requirement(f, "src/composer/inline_form.py").status is Status.MISSING
    assert requirement(f, "legacy_access_token").status is Status.MET  # nothing requires it
    branch = requirement(f, "PLATFORM_OS")
    assert branch.status is Status.PARTIAL and branch.confidence == "low"  # still named: perhaps only mentioned
    draft = requirement(f, "Draft")  # what happens at run time: the class must exist
    assert not any(a.absent for a in draft.requirement.anchors) and draft.status is not Status.MISSING
    task = requirement(f, "src/composer/shim.py")
    assert task.status is Status.MISSING and task.requirement.removal  # an open task to remove it
    assert not any(a.absent for r in f.requirements for a in r.requirement.anchors if a.value == "compose_cache")
    gaps = {g.requirement: g.message for g in f.gaps}
    assert "is not done" in gaps[old.requirement.id]
    from bot.report.common import recommendation
    assert "remove" in recommendation(f)


def test_a_dotted_name_that_names_a_folder_in_the_repository_is_that_folder():
    files = {"docs/features/icons.md": "# Icons\n\n- The app keeps `AppIcon.appiconset` in its assets.\n"
                                      "- `AppIcon.render` draws the icon.\n",
             "src/icons/icon.ts": "export class AppIcon {\n  size = 1\n}\n",
             "src/icons/assets/ios/AppIcon.appiconset/Contents.json": "{}\n"}
    f = feature(analyse(files), "icons")
    kept = requirement(f, "AppIcon.appiconset")
    assert kept.status is Status.MET and kept.evidence[0].path == "src/icons/assets/ios/AppIcon.appiconset/"
    assert requirement(f, "AppIcon.render").status is not Status.MET  # a member, still judged as one


def test_a_route_with_only_parameters_in_common_is_not_offered_as_the_nearest():
    files = {"docs/features/chat.md": "# Chat\n\n- `GET /chat/:chatId` opens a chat.\n- `GET /notes/:id/edit` edits.\n",
             "src/chat/routes.js": "const router = express.Router()\nrouter.delete('/:id', remove)\n"
                                   "router.get('/notes/:noteId/edit', edit2)\nrouter.get('/notes/:id/view', view)\n"}
    f = feature(analyse(files), "chat")
    chat = requirement(f, "GET /chat/:chatId")
    assert chat.status is Status.MISSING and "did you mean" not in chat.detail
    assert "did you mean" in requirement(f, "GET /notes/:id/edit").detail or \
        requirement(f, "GET /notes/:id/edit").status is Status.MET


def test_a_table_is_not_a_function_of_that_name_and_a_code_name_in_plain_text_counts():
    files = {"openspec/specs/audit/spec.md": (
                 "# audit Specification\n\n## Requirements\n### Requirement: Table\n"
                 "A single `log` table MUST store all entries.\n\n### Requirement: Record\n"
                 "The module SHALL expose `record()`, which writes each entry with its entry_kind.\n\n"
                 "### Requirement: Flush\nThe module SHALL expose `flush()`, which empties the buffer on YouTube "
                 "sync.\n"),
             "src/audit/log.js": ("export const log = (...args) => { console.log(...args) }\n"
                                  "export function record(e) { log(e) }\n"
                                  "export function flush() { return record(null) }\n")}
    f = feature(analyse(files), "audit")
    assert requirement(f, "log").status is Status.MISSING  # console.log's `log` is no table
    rec = requirement(f, "record()")
    assert rec.status is Status.PARTIAL and "`entry_kind`" in rec.detail  # spelt as code, and no code has it
    assert requirement(f, "flush()").status is Status.MET  # a product's name is not a missing identifier


def test_routes_of_a_router_mounted_in_another_file_are_found_under_its_prefix():
    files = {"docs/features/users.md": ("# Users\n\n- `GET /api/users/:id` returns a user.\n"
                                        "- `POST /api/users` creates one.\n- `GET /api/users/me/avatar` shows it.\n"
                                        "- `GET /v1/orders/{order_id}` returns an order.\n"
                                        "- `GET /api/auth/session` returns the session.\n"),
             "src/users/routes.js": ("const router = require('express').Router()\nrouter.get('/:id', getUser)\n"
                                     "router.post('/', createUser)\nmodule.exports = router\n"),
             "src/users/other.js": "const r = require('express').Router()\nr.get('/avatar', avatar)\n",
             "src/users/app.js": ("const users = require('./routes')\nconst app = express()\n"
                                  "app.use('/api/users', users)\napp.use('/api/users/me', other)\n"),
             "src/users/orders.py": ('from fastapi import APIRouter\nrouter = APIRouter()\n\n'
                                     '@router.get("/{order_id}")\ndef order(order_id: int):\n    return {}\n'),
             "src/users/main.py": ('from fastapi import FastAPI\nfrom . import orders\napp = FastAPI()\n'
                                   'app.include_router(orders.router, prefix="/v1/orders")\n'),
             "src/users/auth.ts": ("import { Hono } from 'hono'\nexport const auth = new Hono()\n"
                                   "auth.get('/session', (c) => c.json({}))\n"),
             "src/users/server.ts": "import { auth } from './auth'\nconst app = new Hono()\napp.route('/api/auth', auth)\n"}
    f = feature(analyse(files), "users")
    for route, at in (("GET /api/users/:id", "src/users/routes.js"), ("POST /api/users", "src/users/routes.js"),
                      ("GET /v1/orders/{order_id}", "src/users/orders.py"), ("GET /api/auth/session", "src/users/auth.ts")):
        r = requirement(f, route)
        assert r.status is Status.MET and r.evidence[0].path == at, route
        assert r.evidence[1].note == "the router mounted under its prefix"
    # other.js is mounted at /api/users/me by app.js, which does not import it: no way to tell it is that router
    assert requirement(f, "GET /api/users/me/avatar").status is Status.MISSING


def test_what_is_gone_judged_without_failing_or_mistaking_something_like_it_for_it():
    files = {"docs/features/users.md": (
                 "# Users\n\n"
                 "- [ ] Remove `src/users/importer.py` once callers use the new streaming importer\n"
                 "- `src/users/old/export.py` is deleted.\n"
                 "- `DELETE /users/:id` no longer exists.\n"
                 "- [x] Delete the `runExecutorSession` helper\n"),
             "src/users/export.py": "def export():\n    pass\n",
             "src/users/routes.js": "router.get('/users/:id', getUser)\n",
             "spike/proto.py": "def runExecutorSession():\n    pass\n"}
    f = feature(analyse(files), "users")
    assert requirement(f, "src/users/importer.py").status is Status.MET  # gone: once meant a crash here
    assert requirement(f, "src/users/old/export.py").status is Status.MET  # a file of that name elsewhere is not it
    assert requirement(f, "DELETE /users/:id").status is Status.MET  # the GET route is another route
    spike = requirement(f, "runExecutorSession")
    assert spike.status is Status.MET and spike.confidence == "low"  # only a prototype folder still has it


def test_a_gaps_fingerprint_does_not_depend_on_what_a_sentence_says_is_gone():
    from bot.engine.model import Anchor, Kind
    assert Anchor(Kind.PATH, "a.py") == Anchor(Kind.PATH, "a.py", absent="removed")
    assert len({Anchor(Kind.PATH, "a.py"), Anchor(Kind.PATH, "a.py", absent="removed")}) == 1


def test_a_shell_variable_is_met_where_the_code_reads_it_by_name():
    files = {"docs/features/cwd.md": "# Cwd\n\n- Reads `$PWD` for the logical path.\n- Honours `$NO_SUCH_VAR`.\n",
             "src/cwd/lib.rs": "pub fn detect() -> Option<String> { std::env::var(\"PWD\").ok() }\n"}
    f = feature(analyse(files), "cwd")
    assert requirement(f, "$PWD").status is Status.MET
    assert requirement(f, "$NO_SUCH_VAR").status is Status.MISSING


def test_a_test_the_spec_places_in_a_test_file_is_met_where_that_test_uses_it():
    files = {"specs/001-cwd/spec.md": "# Feature Specification: Cwd\n\nThe library MUST offer `detect()`.\n",
             "specs/001-cwd/tasks.md": ("# Tasks\n\n- [x] T001 Implement `detect()` in src/lib.rs\n"
                                        "- [x] T002 Write integration test: `detect()` returns a context in "
                                        "tests/integration.rs\n- [x] T003 Add `to_logical()` in src/lib.rs\n"),
             "src/lib.rs": "pub fn detect() -> u8 { 1 }\npub fn to_logical() -> u8 { 2 }\n",
             "tests/integration.rs": "#[test]\nfn t002() { assert_eq!(lib::detect(), 1); }\n"}
    f = next(f for f in analyse(files).features if "cwd" in f.id)
    t2 = next(r for r in f.requirements if r.requirement.label == "T002")
    assert t2.status is Status.MET and t2.evidence[0].path == "tests/integration.rs"


def test_a_spec_kit_features_code_is_what_its_tasks_place_things_in_not_its_readme():
    files = {"specs/003-examples/spec.md": "# Feature Specification: Examples\n\nThe examples MUST build on Unix.\n",
             "specs/003-examples/tasks.md": (
                 "# Tasks\n\n- [x] T001 Create the `examples/unix/` project\n"
                 "- [x] T002 Implement `broken_cd_demo()` in `examples/unix/src/main.rs`\n"
                 "- [x] T003 Update README.md with a link to the examples\n"
                 "- [x] T004 Create the project structure: `src/`, `tests/`\n"
                 "- [x] T005 Add sample inputs under `examples/data/`\n"),
             "examples/data/in.txt": "x\n",
             "README.md": "# Tool\n",
             "examples/unix/src/main.rs": "fn broken_cd_demo() {}\nfn main() { broken_cd_demo() }\n",
             "examples/unix/Cargo.toml": "[package]\nname = \"unix\"\n",
             "src/lib.rs": "pub fn detect() {}\n"}
    f = next(f for f in analyse(files).features if "examples" in f.id)
    assert "examples/unix/src/main.rs" in f.code and "examples/data/**" in f.code
    # not a document a task updates, a top-level folder, nor a folder the named file already places the work in
    assert not {"README.md", "src/**", "tests/**", "examples/unix/**"} & set(f.code)
    assert f.signals.code_files >= 1
    assert requirement(f, "broken_cd_demo()").status is Status.MET


def test_a_folder_named_from_the_repositorys_root_is_that_folder_and_a_test_elsewhere_is_not_the_place():
    files = {"docs/features/score.md": ("# Score\n\n- Inputs live in `/specs/001-score/`.\n"
                                        "- Implement `Engine` in `core.py`.\n"),
             "specs/001-score/notes.txt": "x\n",
             "src/score/engine.py": "class Engine:\n    pass\n",
             "tests/score/test_engine.py": "from score.engine import Engine\n\ndef test_e():\n    Engine()\n"}
    f = feature(analyse(files), "score")
    assert requirement(f, "ANY /specs/001-score/").status is Status.MET
    assert requirement(f, "Engine").status is not Status.MET  # tests/score/ is not core.py
