"""Features from any document: roles, layouts found with no config, claims re-checked, documents split
by the config, and the per-document matrix in the report."""
import pytest

from bot.engine import GapKind, Status
from bot.engine.documents import classify
from bot.report import markdown
from tests.conftest import analyse, feature, requirement

FLASK_APP = '''from flask import Flask

app = Flask(__name__)


@app.post("/api/invoices")
def create_invoice():
    InvoiceStore().save({})
    return {}


@app.get("/api/invoices/<id>")
def get_invoice(id):
    return {}


class InvoiceStore:
    def save(self, invoice):
        self.rows = [*getattr(self, "rows", []), invoice]
'''
TEST_APP = "from app.billing import create_invoice\n\n\ndef test_create():\n    create_invoice()\n"


# ---- roles -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path,text,role", [
    ("docs/ROADMAP.md", "# Roadmap\n", "roadmap"),
    ("ROADMAP.md", None, "roadmap"),
    ("PRD.md", "# Product requirements\n", "requirements"),
    ("docs/DESIGN.md", "# Design\n", "architecture"),
    ("docs/architecture/storage.md", "# Storage\n", "architecture"),
    ("docs/adr/0001-use-postgres.md", "# 1. Use Postgres\n\nStatus: Accepted\n", "adr"),
    ("docs/adr/0002-use-mongo.md", "# 2. Use Mongo\n\nStatus: Superseded by 0003\n", "superseded"),
    ("docs/rfcs/0007-sharding.md", "# RFC 7\n", "rfc"),
    ("docs/runbooks/failover.md", "# Failover\n", "runbook"),
    ("docs/guides/quickstart.md", "# Quickstart\n", "guide"),
    ("docs/reference/configuration.md", "# Configuration\n", "reference"),
    ("docs/COMPLIANCE.md", "# Compliance\n\nThe system must keep an audit trail.\n", "spec"),
    ("CHANGELOG.md", "# Changelog\n", "claims"),
    ("2025.10.01-SPRINT5-DEPLOYMENT-COMPLETE.md", "# Sprint 5\n", "claims"),
    ("docs/STATUS_REPORT.md", "# Status\n", "claims"),
    ("docs/implementation-summary.md", "# Implementation summary\n", "claims"),
    ("docs/notes.md", "# Sprint 4 — Complete\n\nEverything shipped.\n", "claims"),
    ("docs/audit/2025/findings.md", "# Findings\n", "claims"),
    ("docs/AUDIT_LOG.md", "# Audit log\n\nEvery change must be recorded with its author.\n", "spec"),
    ("README.md", "# Project\n", "meta"),
    ("SECURITY.md", "# Security policy\n", "meta"),
    ("docs/SECURITY.md", "# Security\n\nTokens must be encrypted at rest.\n", "spec"),
    ("docs/README.md", "# Docs\n", "index"),
    ("docs/perf/README.md", "# Performance\n\nThe p95 must stay under 200 ms.\n", "spec"),
    ("docs/archive/old-plan.md", "# Plan\n", "archived"),
    ("examples/shop/README.md", "# Shop\n", "skipped"),
    (".ci-artifacts/run-3/SPRINT-COMPLETE.md", "# Done\n", "skipped"),
    ("docs/index.md", "# Docs\n\n- [A](a.md)\n- [B](b.md)\n- [C](c.md)\n- [D](d.md)\n", "index"),
    ("features/checkout.feature", "Feature: Checkout\n", "spec"),
])
def test_every_document_gets_a_role_with_a_reason(path, text, role):
    r = classify(path, text, code_dirs={"src", "app"})
    assert r.role == role, (r.role, r.why)
    assert r.why


def test_a_readme_in_a_code_folder_documents_that_component():
    assert classify("app/billing/README.md", "# Billing\n", code_dirs={"app", "app/billing"}).role == "component"
    assert classify("notes/README.md", "# Notes\n", code_dirs={"app"}).role == "skipped"


def test_a_completion_report_is_known_by_what_it_says():
    text = "# Handover\n\n" + "".join(f"- ✅ Implemented the {w} module\n" for w in
                                      ("billing", "auth", "search", "export", "import", "audit", "alerts", "cache"))
    r = classify("HANDOVER-NOTES.md", text)
    assert r.role == "claims"


# ---- layouts found with no config --------------------------------------------------------------
def test_flat_feature_docs_of_any_case_are_judged_against_the_code_they_name():
    f = analyse({
        "docs/BILLING.md": "# Billing\n\n- `POST /api/invoices` creates an invoice.\n"
                           "- `GET /api/invoices/{id}` returns one.\n- `POST /api/invoices/{id}/void` voids one.\n",
        "app/billing.py": FLASK_APP,
        "tests/test_billing.py": TEST_APP,
    })
    billing = feature(f, "billing")
    assert billing.scope == "located" and billing.source == "spec"
    assert requirement(billing, "POST /api/invoices").status is Status.MET
    assert requirement(billing, "POST /api/invoices/{id}/void").status is Status.MISSING
    assert billing.located == (("app/", 2),) and billing.located_of == 3
    assert billing.signals.code_files == 1 and billing.signals.test_files == 1  # the test imports the located file
    assert not any(g.kind is GapKind.NO_CODE for g in billing.gaps)
    doc = next(d for d in f.documents if d.path == "docs/BILLING.md")
    assert doc.features == ("billing",) and doc.read


def test_a_feature_spec_with_no_folder_of_its_name_is_not_a_spec_without_code():
    # one Go package at the root, a spec per feature: the code is wherever the requirements are
    f = analyse({
        "docs/features/replay.md": "# Replay\n\n- `--replay` replays a recorded session.\n"
                                   "- `ReplayRecorder` keeps the requests.\n",
        "main.go": 'package main\n\nimport "flag"\n\nvar replay = flag.Bool("replay", false, "replay")\n',
        "recorder.go": "package main\n\ntype ReplayRecorder struct{}\n",
    })
    replay = feature(f, "replay")
    assert replay.scope == "located"
    assert {r.status for r in replay.requirements} == {Status.MET}
    assert "docs/features/replay.md" not in f.unpaired.specs


def test_a_spec_nothing_implements_is_still_a_spec_without_code():
    f = analyse({"docs/features/export.md": "# Export\n\n- `ExportJob` writes a CSV.\n",
                 "app/main.py": "print('hi')\n"})
    export = feature(f, "export")
    assert [g.kind for g in export.gaps if g.kind is GapKind.NO_CODE] == [GapKind.NO_CODE]
    assert "docs/features/export.md" in f.unpaired.specs


def test_architecture_docs_adrs_and_root_plans_become_features():
    f = analyse({
        "docs/architecture/storage.md": "# Storage\n\n## Invoices\n\n`InvoiceStore` persists invoices.\n",
        "docs/adr/0001-flask.md": "# 1. Use Flask\n\nStatus: Accepted\n\nRoutes are registered with `app.post`.\n",
        "docs/adr/0002-django.md": "# 2. Use Django\n\nStatus: Superseded\n\n`DjangoView` serves pages.\n",
        "docs/adr/0003-grpc.md": "# 3. gRPC\n\nStatus: Proposed\n\n`InvoiceService` serves gRPC.\n",
        "PLAN.md": "# Plan\n\n- [ ] Add `GET /api/invoices/{id}/pdf`\n",
        "app/billing.py": FLASK_APP,
    })
    ids = {x.id for x in f.features}
    assert {"storage", "0001-flask", "0003-grpc", "plan"} <= ids and "0002-django" not in ids
    assert requirement(feature(f, "storage"), "InvoiceStore").status is Status.MET
    grpc = feature(f, "0003-grpc")
    assert all(r.planned for r in grpc.requirements)  # a proposed decision is planned, never a gap
    roles = {d.path: d.role for d in f.documents}
    assert roles["docs/adr/0002-django.md"] == "superseded"


def test_a_design_document_joins_the_feature_it_is_about():
    f = analyse({
        "docs/ideas/admin-api.md": "# Admin API\n\n- `GET /admin/users` lists users.\n",
        "docs/design/f001-design.md": "# Admin API Design Document\n\n- `AdminUserView` renders the list.\n",
        "internal/adminapi/routes.go": 'package adminapi\n\nfunc R(r *mux.Router) {\n'
                                       '\tr.HandleFunc("/admin/users", list).Methods("GET")\n}\n'
                                       "type AdminUserView struct{}\n",
    })
    assert [x.id for x in f.features] == ["admin-api"]
    admin = f.features[0]
    assert admin.spec == ("docs/ideas/admin-api.md", "docs/design/f001-design.md")
    assert {r.status for r in admin.requirements} == {Status.MET}
    why = next(d.why for d in f.documents if d.path == "docs/design/f001-design.md")
    assert "joins that feature" in why


def test_speckit_plan_and_research_stay_with_their_feature():
    f = analyse({
        "specs/001-billing/spec.md": "# Billing\n\n- **FR-001**: System MUST expose `POST /api/invoices`.\n",
        "specs/001-billing/plan.md": "# Plan\n\nBuilt with `Flask`.\n",
        "specs/001-billing/contracts/api.md": "# API\n\n- `GET /api/invoices/{id}` returns one invoice.\n",
        "app/billing.py": FLASK_APP,
    })
    (billing,) = f.features
    assert billing.spec == ("specs/001-billing/spec.md", "specs/001-billing/contracts/api.md")
    assert {r.status for r in billing.requirements} == {Status.MET}
    plan = next(d for d in f.documents if d.path == "specs/001-billing/plan.md")
    assert not plan.read and "folder of feature 'billing'" in plan.why


# ---- claims ------------------------------------------------------------------------------------
STATUS_TABLE = """# Implementation status

| Feature | Status | Notes |
|---|---|---|
| `POST /api/invoices` | ✅ Implemented | |
| `POST /api/refunds` | ✅ Implemented | |
| `GET /api/invoices/{id}` | ❌ Missing | not started |
| `InvoiceStore` | ⚠️ Partial | |
"""


def test_a_status_table_is_re_checked_not_read_as_requirements():
    f = analyse({"docs/STATUS.md": STATUS_TABLE, "docs/BILLING.md": "# Billing\n\n- `POST /api/invoices`\n",
                 "app/billing.py": FLASK_APP})
    assert [x.id for x in f.features] == ["billing"]  # the status report is no feature
    by = {c.text.split(" · ")[0].strip("`"): c for c in f.claims}
    assert by["POST /api/invoices"].verdict == "confirmed"
    assert by["POST /api/refunds"].verdict == "not-found" and by["POST /api/refunds"].claim == "done"
    missing = by["GET /api/invoices/{id}"]
    assert missing.verdict == "implemented" and missing.evidence[0].path == "app/billing.py"
    assert by["InvoiceStore"].claim == "in-progress"
    md = markdown.render(f, markdown.Meta("shop"))
    assert "## Claims re-checked" in md and "claimed done, not found" in md
    assert "claimed not done, but implemented" in md and "`docs/STATUS.md`" in md


def test_a_completion_log_and_a_hand_written_gap_analysis_are_claims():
    f = analyse({
        "2025.10.01-SPRINT5-BILLING-COMPLETE.md": "# Sprint 5 complete\n\n- ✅ `create_invoice` endpoint\n"
                                                  "- ✅ `ExportJob` nightly export\n- [ ] Load test the API\n",
        "docs/gap-analysis.md": "# Gap analysis\n\n## ✅ Fully implemented\n\n| Feature | Files |\n|---|---|\n"
                                "| Invoices | `app/billing.py` |\n\n## ❌ Not implemented\n\n"
                                "| Feature | Notes |\n|---|---|\n| Storage | `InvoiceStore` not written |\n",
        "CHANGELOG.md": "# Changelog\n\n## 1.0\n\n- Added `create_invoice`.\n",
        "app/billing.py": FLASK_APP,
    })
    assert not f.features
    roles = {d.path: d.role for d in f.documents}
    assert set(roles.values()) == {"claims"}
    log = [c for c in f.claims if c.path.startswith("2025")]
    assert {c.verdict for c in log} == {"confirmed", "not-found"}  # the open box is a step, not a claim
    assert len(log) == 2
    gap = {c.line: c for c in f.claims if c.path == "docs/gap-analysis.md"}
    assert gap[7].claim == "done" and gap[7].verdict == "confirmed"
    assert gap[13].claim == "missing" and gap[13].verdict == "implemented"
    assert not [c for c in f.claims if c.path == "CHANGELOG.md"]  # a changelog line has no status mark


# ---- documents split by the config -------------------------------------------------------------
ROADMAP = """# Roadmap

## Feature matrix

| Feature | Status | Notes |
|---|---|---|
| Invoice creation | ✅ Done | `POST /api/invoices` |
| Invoice lookup | ✅ Done | `GET /api/invoices/{id}` |
| Refunds | ✅ Done | `POST /api/refunds` |
| Tax reports | 📋 Planned | `TaxReport` |

## Refunds

Refunds are issued through `RefundService`.
"""


def test_a_roadmap_split_by_rows_gives_one_feature_per_row():
    f = analyse({
        ".github/driftbot.yml": "version: 1\ndocuments:\n  - spec: docs/ROADMAP.md\n    split: rows\n",
        "docs/ROADMAP.md": ROADMAP, "app/billing.py": FLASK_APP,
    })
    ids = [x.id for x in f.features]
    assert ids == ["roadmap.invoice-creation", "roadmap.invoice-lookup", "roadmap.refunds", "roadmap.tax-reports"]
    creation = feature(f, "roadmap.invoice-creation")
    assert creation.document == "docs/ROADMAP.md" and creation.section == "Invoice creation"
    assert [r.status for r in creation.requirements] == [Status.MET]
    refunds = feature(f, "roadmap.refunds")  # its row and the section of the same name
    assert {a.value for r in refunds.requirements for a in r.requirement.anchors} == {"POST /api/refunds",
                                                                                      "RefundService"}
    assert any(g.kind is GapKind.CLAIMED_DONE for g in refunds.gaps)
    assert all(r.planned for r in feature(f, "roadmap.tax-reports").requirements)
    md = markdown.render(f, markdown.Meta("shop"))
    matrix = md.split("## Document matrices", 1)[1].split("\n## ", 1)[0]
    assert "| Feature | Planned | Implemented | Gap | Evidence | Next step |" in matrix
    row = next(line for line in matrix.splitlines() if line.startswith("| [Invoice creation]"))
    assert "✅ done" in row and "✅ yes" in row and "`app/billing.py:" in row
    row = next(line for line in matrix.splitlines() if line.startswith("| [Refunds]"))
    assert "❌ no" in row and "Implement or correct the claim" in row


def test_a_document_split_by_headings_and_by_epics():
    arch = ("# Architecture\n\nIntro.\n\n## Invoices\n\n`InvoiceStore` saves invoices.\n\n### Details\n\n"
            "`InvoiceStore.save` writes one.\n\n## Payments\n\n`PaymentGateway` charges cards.\n")
    f = analyse({
        ".github/driftbot.yml": "version: 1\ndocuments:\n  - spec: docs/architecture.md\n    split: headings\n"
                                "    id: arch\n  - spec: docs/epics.md\n    split: epics\n    code: [app/**]\n",
        "docs/architecture.md": arch,
        "docs/epics.md": "# Product\n\n## Epic 1: Invoicing\n\n`create_invoice` makes one.\n\n"
                         "## Epic 2: Dunning\n\n`DunningJob` reminds.\n",
        "app/billing.py": FLASK_APP,
    })
    assert [x.id for x in f.features] == ["arch.invoices", "arch.payments", "epics.epic-1-invoicing",
                                          "epics.epic-2-dunning"]
    inv = feature(f, "arch.invoices")
    assert {a.value for r in inv.requirements for a in r.requirement.anchors} == {"InvoiceStore", "InvoiceStore.save"}
    assert inv.parts == ((5, 12),) and {r.status for r in inv.requirements} == {Status.MET}
    assert [r.status for r in feature(f, "arch.payments").requirements] == [Status.MISSING]
    assert feature(f, "epics.epic-1-invoicing").code == ("app/**",)


def test_a_document_with_nothing_to_split_says_so():
    f = analyse({".github/driftbot.yml": "version: 1\ndocuments:\n  - spec: docs/x.md\n    split: rows\n",
                 "docs/x.md": "# X\n\nNo tables here.\n", "app/a.py": "x = 1\n"})
    assert not f.features
    assert any("docs/x.md has no table rows to split into features" in w for w in f.warnings)
