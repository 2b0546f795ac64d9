"""A folder's README is a feature whose code is that folder, and a file a spec names by its bare name
(`requirements.in`, `Dockerfile`) is found where it is."""
from bot.engine.model import Status
from tests.conftest import analyse


def test_a_service_readme_owns_its_folders_code_even_when_no_requirement_locates_it():
    readme = "# Checkout service\n\nRun `go mod vendor` to restore dependencies to `vendor/`.\n"
    findings = analyse({"src/checkoutservice/README.md": readme,
                        "src/checkoutservice/main.go": "package main\n\nfunc main() {}\n",
                        "src/checkoutservice/main_test.go": "package main\n",
                        "src/frontend/main.go": "package main\n\nfunc main() {}\n"})
    f = next(f for f in findings.features if f.id.endswith("checkoutservice"))
    assert f.signals.code_files == 1 and f.signals.test_files == 1
    assert not any(g.kind.value == "no-code" for g in f.gaps)


def test_a_file_named_by_its_bare_name_is_found():
    spec = ("# Adding a service\n\n- `requirements.in`: the Python dependencies.\n"
            "- `Dockerfile`: builds the image.\n- `settings.local`: local overrides.\n")
    findings = analyse({"docs/features/adding-a-service.md": spec,
                        "src/email/requirements.in": "grpcio\n", "src/email/Dockerfile": "FROM python:3.12\n",
                        "src/email/server.py": "import grpc\n"})
    f = next(f for f in findings.features if f.id == "adding-a-service")
    by = {a.value: r for r in f.requirements for a in r.requirement.anchors}
    assert by["requirements.in"].status is Status.MET
    assert by["requirements.in"].evidence[0].path == "src/email/requirements.in"
    assert by["Dockerfile"].status is Status.MET
    assert by["settings.local"].status is not Status.MET  # no such file: not found by name alone


def test_a_file_of_that_name_in_another_services_folder_is_only_partial():
    findings = analyse({"services/billing/README.md": "# Billing\n\nDependencies are pinned in `requirements.in`.\n",
                        "services/billing/app.py": "def charge():\n    pass\n",
                        "services/shipping/requirements.in": "grpcio\n",
                        "services/shipping/app.py": "def ship():\n    pass\n"})
    f = next(f for f in findings.features if f.id.endswith("billing"))
    r = next(r for r in f.requirements if any(a.value == "requirements.in" for a in r.requirement.anchors))
    assert r.status is Status.PARTIAL and "services/shipping/requirements.in" in r.detail
