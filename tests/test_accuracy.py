"""Requirement-level accuracy on small planted repositories: every kind of statement a real spec
makes (tables with column roles, code blocks by language, prose, planned rows) is read and judged
by the code's structure."""
from bot.engine import Status
from tests.conftest import analyse, feature, requirement


def test_tests_that_import_the_feature_cover_it():
    files = {
        "docs/features/billing.md": "# Billing\n\n- `Invoice` holds the lines.\n",
        "src/billing/__init__.py": "",
        "src/billing/invoice.py": "class Invoice:\n    pass\n",
        "tests/unit/test_money.py": "from src.billing.invoice import Invoice\n\ndef test_total():\n    Invoice()\n",
        "tests/unit/test_other.py": "import json\n",
    }
    f = feature(analyse(files), "billing")
    assert f.signals.tests == ("tests/unit/test_money.py",)
    assert f.signals.test_files == 1


def test_a_feature_with_nothing_checkable_has_unknown_alignment():
    files = {
        "docs/features/vision.md": "# Vision\n\nWe believe in it.\n",
        "src/vision/__init__.py": "",
        "src/vision/core.py": "def run():\n    return 1\n",
        "docs/features/billing.md": "# Billing\n\n- `Invoice` holds the lines.\n",
        "src/billing/__init__.py": "",
        "src/billing/invoice.py": "class Invoice:\n    pass\n",
    }
    findings = analyse(files)
    vision = feature(findings, "vision")
    assert vision.alignment is None and vision.band == "Unknown" and vision.finished == "unknown"
    assert findings.unknown_features == 1
    assert findings.overall_alignment == feature(findings, "billing").alignment
