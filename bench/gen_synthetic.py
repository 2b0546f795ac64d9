"""Generate a synthetic repository: N features, each a spec in docs/ideas/ and a Go package in
internal/ (about 30 files per feature), with routes, types, tests, TODOs and planted gaps.

    python bench/gen_synthetic.py OUT_DIR [--features 1000] [--files-per-feature 30]
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path


def spec(name: str, i: int) -> str:
    return f"""# Feature {name}

Owns the {name} resource end to end.

## API

| Endpoint | Purpose |
|---|---|
| `GET /api/{name}/{{id}}` | fetch one |
| `POST /api/{name}` | create |
| `DELETE /api/{name}/{{id}}` | delete |

## Design

- `{name.title()}Service` coordinates storage and events.
- Configuration key `{name}.timeout` bounds every call.
- The environment variable `{name.upper()}_TOKEN` authenticates peers.
- Requests are counted in `{name}_requests_total`.
- The service MUST retry transient failures.

## Checklist

- [x] Storage in `{name.title()}Store`
- [x] Events via `Publish{name.title()}Event()`
- [ ] Bulk import with `--bulk-size`

## Non-goals

- `PUT /api/{name}/{{id}}/archive`
"""


def code_file(name: str, pkg: str, k: int, rnd: random.Random, full: bool) -> str:
    t = name.title()
    lines = [f"package {pkg}", "", 'import (', '\t"context"', '\t"errors"', '\t"os"', ')', ""]
    if k == 0:
        lines += [f"// {t}Service coordinates storage and events.", f"type {t}Service struct {{", "\tstore *"
                  f"{t}Store", "}", "", f"type {t}Store struct{{ items map[string]string }}", "",
                  f'const timeoutKey = "{name}.timeout"', f'const metricName = "{name}_requests_total"', "",
                  f'var token = os.Getenv("{name.upper()}_TOKEN")', ""]
    if k == 1:
        lines += ["func Register(r Router) {", f'\tr.HandleFunc("/api/{name}/{{id}}", get).Methods("GET")']
        if full:
            lines.append(f'\tr.HandleFunc("/api/{name}", create).Methods("POST")')
        lines += ["}", ""]
    if k == 2 and full:
        lines += [f"func Publish{t}Event(ctx context.Context) error {{", "\treturn nil", "}", ""]
    for j in range(rnd.randint(3, 7)):
        fn = f"helper{k}x{j}"
        lines += [f"// {fn} does step {j} of the {name} pipeline.", f"func {fn}(ctx context.Context, in string) (string, error) {{",
                  "\tif in == \"\" {", f'\t\treturn "", errors.New("{name}: empty input")', "\t}"]
        if rnd.random() < 0.03:
            lines.append("\t// TODO: handle cancellation")
        if rnd.random() < 0.01:
            lines.append('\tpanic("not implemented")')
        lines += ["\treturn in + \"-\" + \"" + name + "\", nil", "}", ""]
    return "\n".join(lines) + "\n"


def generate(out: Path, features: int, per_feature: int, seed: int = 7) -> int:
    rnd = random.Random(seed)
    count = 0
    imports = []
    for i in range(features):
        name = f"res{i:04d}"
        pkg = name
        full = i % 5 != 0  # every fifth feature lacks its POST route and event publisher
        (out / "docs" / "ideas").mkdir(parents=True, exist_ok=True)
        (out / "docs" / "ideas" / f"{name}.md").write_text(spec(name, i))
        count += 1
        d = out / "internal" / name
        d.mkdir(parents=True, exist_ok=True)
        n_tests = 0 if i % 7 == 0 else max(1, per_feature // 6)
        for k in range(per_feature - 1 - n_tests):
            (d / f"part{k:02d}.go").write_text(code_file(name, pkg, k, rnd, full))
            count += 1
        for k in range(n_tests):
            (d / f"part{k:02d}_test.go").write_text(f'package {pkg}\n\nimport "testing"\n\nfunc TestPart{k}(t *testing.T) {{\n'
                                                     f'\tif _, err := helper0x0(nil, "x"); err != nil {{ t.Fatal(err) }}\n}}\n')
            count += 1
        if i % 3:
            imports.append(f'\t"example.com/synthetic/internal/{name}"')
    (out / "cmd" / "server").mkdir(parents=True, exist_ok=True)
    (out / "cmd" / "server" / "main.go").write_text("package main\n\nimport (\n" + "\n".join(imports) + "\n)\n\nfunc main() {}\n")
    (out / "go.mod").write_text("module example.com/synthetic\n\ngo 1.22\n")
    return count + 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--features", type=int, default=1000)
    ap.add_argument("--files-per-feature", type=int, default=30)
    a = ap.parse_args()
    n = generate(Path(a.out), a.features, a.files_per_feature)
    print(f"wrote {n} files for {a.features} features to {a.out}")


if __name__ == "__main__":
    main()
