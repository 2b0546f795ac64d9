"""Infrastructure as evidence: Kubernetes manifests, Helm charts, Dockerfiles, compose files, CI
workflows, Terraform and .env examples are searched for the requirements that are about them, and a
setting the infrastructure sets but no program reads is reported as exactly that."""
from bot.engine import Engine, load_config
from bot.engine.rules import select
from bot.engine.model import Status
from bot.engine.snapshot import Snapshot
from tests.conftest import analyse, feature

SPEC = """# Deployment

The service runs on Kubernetes behind a Service on port 8080.

## Requirements

- Configuration comes from the `app-config` ConfigMap: `LOG_LEVEL` sets the log level and `CACHE_TTL` sets the cache lifetime in seconds.
- A HorizontalPodAutoscaler scales the api Deployment between 3 and 10 replicas.
- The service answers liveness probes on `/livez`.
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  LOG_LEVEL: info
  CACHE_TTL: "300"
"""
HPA = """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: api
spec:
  scaleTargetRef:
    kind: Deployment
    name: api
  minReplicas: 3
  maxReplicas: 10
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          livenessProbe:
            httpGet:
              path: /livez
              port: 8080
"""
MAIN = 'import os\n\nLOG_LEVEL = os.environ.get("LOG_LEVEL", "info")\n'


RULES = select(None, ["src/app/main.py"])


def infra_candidate(path: str) -> bool:
    return RULES.infra_candidate(path)


def is_infra(path: str, text: str) -> bool:
    return RULES.infra_rule(path, text) is not None


def files(**extra):
    return {"docs/features/deployment.md": SPEC, "k8s/configmap.yaml": CONFIGMAP, "k8s/hpa.yaml": HPA,
            "k8s/deployment.yaml": DEPLOYMENT, "src/app/main.py": MAIN, **extra}


def results(findings):
    f = feature(findings, "deployment")
    return f, {a.value: r for r in f.requirements for a in r.requirement.anchors}


def test_a_setting_only_a_manifest_sets_is_missing_and_says_where_it_is_set():
    f, by_anchor = results(analyse(files()))
    ttl = by_anchor["CACHE_TTL"]
    assert ttl.status is Status.MISSING
    assert ttl.detail == "set in k8s/configmap.yaml:7, never read by the code"
    assert [(e.path, e.line) for e in ttl.evidence] == [("k8s/configmap.yaml", 7)]
    assert by_anchor["LOG_LEVEL"].status is Status.MET  # read by the program: the manifest does not matter
    assert by_anchor["LOG_LEVEL"].evidence[0].path == "src/app/main.py"


def test_a_path_the_infrastructure_calls_but_no_route_serves_is_missing_with_the_caller():
    _, by_anchor = results(analyse(files()))
    livez = next(r for v, r in by_anchor.items() if "livez" in v)
    assert livez.status is Status.MISSING
    assert "k8s/deployment.yaml:12 names /livez, but no route registration serves it" in livez.detail
    served = files(**{"src/app/server.py": "from flask import Flask\napp = Flask(__name__)\n\n\n"
                                           "@app.get('/livez')\ndef livez():\n    return 'ok'\n"})
    _, by_anchor = results(analyse(served))
    assert next(r for v, r in by_anchor.items() if "livez" in v).status is Status.MET


def test_a_requirement_about_the_infrastructure_is_judged_against_the_manifests():
    f, _ = results(analyse(files()))
    hpa = next(r for r in f.requirements if "HorizontalPodAutoscaler" in r.requirement.text)
    assert hpa.status is not Status.MISSING
    assert any(e.path == "k8s/hpa.yaml" for e in hpa.evidence)
    assert hpa.searched == "the repository's source: 1 code file in src/; 3 infrastructure files (k8s/)"
    without = analyse({p: t for p, t in files().items() if p != "k8s/hpa.yaml"})
    hpa = next(r for r in feature(without, "deployment").requirements if "HorizontalPodAutoscaler" in r.requirement.text)
    assert not any(e.path.startswith("k8s/") and "HorizontalPodAutoscaler" in e.note for e in hpa.evidence)


def test_ordinary_yaml_is_not_infrastructure():
    # translations, fixtures and test data that happen to hold the same key set nothing
    extra = {"locales/en.yaml": "CACHE_TTL: Cache lifetime\n", "tests/fixtures/k8s.yaml": CONFIGMAP,
             "docs/examples/configmap.yaml": CONFIGMAP}
    _, by_anchor = results(analyse({p: t for p, t in files(**extra).items() if p != "k8s/configmap.yaml"}))
    assert by_anchor["CACHE_TTL"].detail != "" and "set in" not in by_anchor["CACHE_TTL"].detail
    assert not is_infra("locales/en.yaml", "CACHE_TTL: x\n")
    assert not infra_candidate("tests/fixtures/k8s.yaml") and not infra_candidate("package-lock.yaml")


def test_which_files_are_infrastructure():
    manifest = "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n"
    assert is_infra("deploy/service.yaml", manifest)
    assert is_infra("charts/api/templates/deployment.yaml", "apiVersion: {{ .Values.api }}\nkind: Deployment\n")
    assert is_infra("charts/api/Chart.yaml", "apiVersion: v2\nname: api\n")
    for path in ("Dockerfile", "build/api.Dockerfile", "docker-compose.yml", "compose.yaml",
                 ".github/workflows/ci.yml", "infra/main.tf", "infra/prod.tfvars", ".env.example"):
        assert infra_candidate(path) and is_infra(path, "x = 1\n"), path
    assert not is_infra("config/settings.yaml", "debug: true\nport: 8080\n")
    assert not is_infra("openapi.yaml", "openapi: 3.0.0\ninfo:\n  title: x\n")


def test_a_change_to_a_manifest_touches_the_feature_that_names_what_it_sets():
    base = Snapshot.from_texts(files())
    head = base.with_changes({"k8s/configmap.yaml": CONFIGMAP.replace('"300"', '"600"')})
    engine = Engine()
    config = load_config(base)
    assert engine.touched(config, ["k8s/configmap.yaml"], base, head) == ["deployment"]
    unrelated = base.with_changes({"k8s/other.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: tools\n"})
    assert engine.touched(config, ["k8s/other.yaml"], base, unrelated) == []
    assert "k8s/configmap.yaml" in engine.needed_paths(head, config, ["deployment"])


def test_a_key_of_the_infrastructures_own_is_never_a_confident_gap():
    spec = ("# Alerts\n\nThe worker alerts when it is down:\n\n```yaml\ngroups:\n  - name: worker\n    rules:\n"
            "      - alert: WorkerDown\n        for: 5m\n```\n")
    rules = ("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: worker\nspec:\n"
             "  groups:\n    - name: worker\n      rules:\n        - alert: WorkerDown\n          for: 5m\n")
    findings = analyse({"docs/features/alerts.md": spec, "k8s/rules.yaml": rules, "src/app/main.py": MAIN})
    keyed = [r for r in feature(findings, "alerts").requirements
             if r.evidence and r.evidence[0].path == "k8s/rules.yaml" and "key of this name" in r.detail]
    assert keyed, [(r.requirement.text, r.status, r.detail) for r in feature(findings, "alerts").requirements]
    assert all(r.status is Status.MISSING and r.confidence == "low" for r in keyed)
    assert not any(g.confidence == "high" and g.requirement in {r.requirement.id for r in keyed}
                   for g in feature(findings, "alerts").gaps)


def test_the_rule_pack_guide_example_adds_a_format_of_its_own():
    """docs/rule-packs.md's Nomad pack, as a repository would bring it: its files become infrastructure
    and a setting only they set reads as such."""
    import re as _re
    from pathlib import Path
    guide = (Path(__file__).resolve().parents[1] / "docs" / "rule-packs.md").read_text(encoding="utf-8")
    section = guide.split("## Infrastructure rules", 1)[1]
    pack = _re.search(r"```yaml\n(pack: nomad.*?)```", section, _re.S).group(1)
    spec = "# Worker\n\n- The worker reads `WORKER_QUEUE` from its environment.\n"
    job = 'job "worker" {\n  env {\n    WORKER_QUEUE = "emails"\n  }\n}\n'
    repo = {"docs/features/worker.md": spec, "deploy/worker.nomad": job, "src/app/main.py": MAIN,
            ".driftbot/rules/nomad.yml": pack,
            ".github/driftbot.yml": "version: 1\nrules:\n  custom: .driftbot/rules/*.yml\n"}
    r = next(r for r in feature(analyse(repo), "worker").requirements
             if any(a.value == "WORKER_QUEUE" for a in r.requirement.anchors))
    assert (r.status, r.detail) == (Status.MISSING, "set in deploy/worker.nomad:3, never read by the code")
    without = {p: t for p, t in repo.items() if not p.startswith(".driftbot") and p != ".github/driftbot.yml"}
    r = next(r for r in feature(analyse(without), "worker").requirements
             if any(a.value == "WORKER_QUEUE" for a in r.requirement.anchors))
    assert "set in" not in r.detail  # without the pack, a .nomad file is nothing driftbot reads


def test_a_folder_of_manifests_with_a_readme_is_a_feature_with_code():
    readme = ("# Public frontend\n\nBy default a `Service` of type `LoadBalancer` exposes the frontend; this "
              "component removes it.\n\nThe `frontend-external` Service is deleted by the `kustomization.yaml` "
              "patch.\n")
    kustomization = ("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n"
                     "  - target:\n      kind: Service\n      name: frontend-external\n")
    frontend = ("apiVersion: v1\nkind: Service\nmetadata:\n  name: frontend-external\nspec:\n  type: LoadBalancer\n")
    repo = {"kustomize/components/non-public-frontend/README.md": readme,
            "kustomize/components/non-public-frontend/kustomization.yaml": kustomization,
            "kustomize/base/frontend.yaml": frontend, "src/frontend/main.go": "package main\n\nfunc main() {}\n"}
    findings = analyse(repo)
    f = next(f for f in findings.features if f.id.endswith("non-public-frontend"))
    assert f.signals.code_files >= 1 and "no code" not in f.finished
    by_anchor = {a.value: r for r in f.requirements for a in r.requirement.anchors}
    lb = by_anchor["LoadBalancer"]
    assert lb.status is Status.MET and lb.evidence[0].path == "kustomize/base/frontend.yaml"
    assert not any(g.kind.value == "no-code" for g in f.gaps)


def test_a_manifest_nested_deeper_than_any_parser_goes_does_not_sink_the_report():
    """A hostile or generated manifest nested thousands of levels deep is read as far as it can be,
    and the report goes on (it used to end in a RecursionError)."""
    deep = "[" * 3000 + "]" * 3000
    files = {"docs/features/deploy.md": SPEC, "k8s/configmap.yaml": CONFIGMAP,
             "k8s/deep.yaml": f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: deep\nspec: {deep}\n",
             "k8s/deep.json": deep}
    snap = Snapshot.from_texts(files)
    engine = Engine()
    rs = engine.rule_set(snap, load_config(snap))
    for path in ("k8s/deep.yaml", "k8s/deep.json"):
        engine.file_index(snap, path, rs)  # no RecursionError
    found = engine.evaluate(snap, load_config(snap))
    assert found.features and "deep" not in " ".join(found.warnings)


def test_yaml_reads_the_same_with_libyaml_as_with_the_pure_loader(monkeypatch):
    import yaml
    from bot.engine import dataindex
    if not hasattr(yaml, "CSafeLoader"):
        return  # nothing to compare: the pure loader is the only one
    docs = [CONFIGMAP, HPA, DEPLOYMENT, "a: &x [1, 2]\nb: *x\nc: {d: e}\n", "k: |\n  a: 1\n  b: 2\nn: >\n  x: y\n",
            "a: 1\n---\nb: [x, y]\n# c\n", "{{ .Values.x }}\nname: LOG_LEVEL\n", "env:\n  - name: CACHE_TTL\n    value: '1'\n",
            "services:\n  api:\n    environment:\n      - LOG_LEVEL=debug\n", "a: [1, 2\n", "a:\n\tb: 1\n", "[" * 500 + "]" * 500]

    def read(text, loader):
        monkeypatch.setattr(dataindex, "_FAST", loader)
        out = []
        dataindex._structured(text, lambda n, ln: out.append(("key", n, ln)), lambda v, ln: out.append(("value", v, ln)))
        return out
    for text in docs:
        assert read(text, yaml.CSafeLoader) == read(text, yaml.SafeLoader), text[:40]
    # where they differ: tabs, which the pure loader refuses anywhere and libyaml accepts where YAML 1.2
    # does (JSON indented with tabs is JSON; a tab after a colon), so libyaml reads their keys
    tabbed = '[\n\t{\n\t\t"targets": ["localhost:9090"]\n\t}\n]\n'
    assert ("key", "targets", 3) in read(tabbed, yaml.CSafeLoader)
    assert read("a:\t1\n", yaml.SafeLoader) == [] and ("key", "a", 1) in read("a:\t1\n", yaml.CSafeLoader)
