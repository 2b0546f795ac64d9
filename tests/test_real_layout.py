"""A real-world Go layout with no config: docs/ideas/<f>.md ↔ internal/<f>/, _test.go files, mux routes.
Every spec pairs with its folder, and the full report and JSON come out."""
import json

from bot.cli import main


def make_repo(root, n=12):
    (root / "go.mod").write_text("module github.com/acme/platform\n\ngo 1.22\n")
    main_imports = []
    for i in range(n):
        name = f"svc{i:02d}" if i % 3 else f"feature-{i:02d}"
        pkg = name.replace("-", "_")
        folder = name.replace("-", "_") if i % 2 else name  # feature-00 ↔ internal/feature_00 on odd ones
        (root / "docs" / "ideas").mkdir(parents=True, exist_ok=True)
        (root / "docs" / "ideas" / f"{name}.md").write_text(
            f"# {name}\n\n## API\n\n- `GET /api/{name}/{{id}}`\n- `POST /api/{name}`\n\n"
            f"## Design\n\n- `{pkg.title().replace('_', '')}Store` keeps state.\n- [x] metrics via `{pkg}_requests_total`\n")
        d = root / "internal" / folder
        d.mkdir(parents=True, exist_ok=True)
        (d / "handler.go").write_text(
            f'package {pkg}\n\nimport "github.com/gorilla/mux"\n\n'
            f"type {pkg.title().replace('_', '')}Store struct{{}}\n\n"
            f'const metric = "{pkg}_requests_total"\n\n'
            f"func Register(r *mux.Router) {{\n"
            f'\tr.HandleFunc("/api/{name}/{{id:[0-9]+}}", get).Methods("GET")\n'
            + (f'\tr.HandleFunc("/api/{name}", create).Methods("POST")\n' if i % 4 else "")
            + "\tcount(metric)\n}\n")
        (d / "handler_test.go").write_text(f"package {pkg}\n\nimport \"testing\"\n\nfunc TestGet(t *testing.T) {{}}\n")
        main_imports.append(f'\t"github.com/acme/platform/internal/{folder}"')
    (root / "cmd" / "platform").mkdir(parents=True)
    (root / "cmd" / "platform" / "main.go").write_text("package main\n\nimport (\n" + "\n".join(main_imports)
                                                      + "\n)\n\nfunc main() {}\n")


def test_go_layout_pairs_every_spec_without_config(tmp_path, capsys):
    make_repo(tmp_path)
    assert main(["report", str(tmp_path), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"] is None
    assert data["layouts"] == ["docs/ideas/<feature>.md ↔ internal/<feature>/"]
    assert data["unpaired"] == {"specs": [], "code": []}
    assert len(data["features"]) == 12
    for f in data["features"]:
        assert f["signals"]["code_files"] == 1 and f["signals"]["test_files"] == 1, f["id"]
        assert f["signals"]["referenced_count"] == 1, f["id"]
        statuses = {r["kind"] + ":" + r["anchors"][0]["value"].split(" ")[0]: r["status"] for r in f["requirements"]}
        assert statuses["endpoint:GET"] == "met"
        assert all(r["status"] == "met" for r in f["requirements"] if r["kind"] != "endpoint"), f["id"]
    missing_post = sorted(f["id"] for f in data["features"]
                          if any(g["kind"] == "missing" and "POST" in g["message"] for g in f["gaps"]))
    assert missing_post == ["feature-00", "svc04", "svc08"]
    assert main(["report", str(tmp_path)]) == 0
    md = capsys.readouterr().out
    assert "Overall alignment:" in md and md.count("\n### ") >= 12
