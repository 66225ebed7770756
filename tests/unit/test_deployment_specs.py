"""config/deployments.yaml as deployments: schedules from config, tags by stage, and a
fingerprint that changes with what a deployment says and only then."""
import shutil
from pathlib import Path

import pytest
import yaml

from zhicheng.config import ConfigError, get_config, load_config
from zhicheng.deployments import build_deployment, deployment_specs

REPO = Path(__file__).resolve().parents[2]


def _config_with(tmp_path, **changes):
    d = tmp_path / "config"
    shutil.copytree(REPO / "config", d)
    data = yaml.safe_load((d / "deployments.yaml").read_text(encoding="utf-8"))
    intake = next(x for x in data["deployments"] if x["name"] == "intake")
    intake.update(changes)
    (d / "deployments.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(d)


def test_intake_and_validation_run_all_year():
    specs = {s.name: s for s in deployment_specs(get_config(), from_year=2026)}
    for name in ("intake", "validate"):
        assert [s.cron for s in specs[name].schedules] == ["*/15 * * * *"]


def test_a_stage_limited_to_the_declaration_period_follows_policy_yaml(tmp_path):
    config = _config_with(tmp_path, during="declaration_period")
    (spec,) = [s for s in deployment_specs(config, from_year=2026) if s.name == "intake"]
    rules = [s.rrule for s in spec.schedules]
    assert [r.split("\n")[0] for r in rules] == ["DTSTART:20260506T000000", "DTSTART:20270506T000000"]
    assert all("UNTIL=2026" in rules[0] or "UNTIL=2027" in r for r in rules)


def test_an_unknown_period_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"deployments.yaml: key deployments.0.during: .*declaration_period"):
        deployment_specs(_config_with(tmp_path, during="summer"), from_year=2026)


def test_tags_by_stage_and_a_fingerprint_of_what_a_deployment_says(tmp_path):
    specs = {s.name: s for s in deployment_specs(get_config(), from_year=2026)}
    quality = build_deployment(specs["quality"], work_pool="zhicheng")
    assert quality.tags == ["zhicheng", "quality"]
    assert quality.version == build_deployment(specs["quality"], work_pool="zhicheng").version
    changed = _config_with(tmp_path, description="另一个说明")
    (intake,) = [s for s in deployment_specs(changed, from_year=2026) if s.name == "intake"]
    assert build_deployment(intake, work_pool="zhicheng").version != \
        build_deployment(specs["intake"], work_pool="zhicheng").version


def test_every_parameter_is_described_and_suite_is_a_choice():
    for spec in deployment_specs(get_config(), from_year=2026):
        props = build_deployment(spec, work_pool=None)._parameter_openapi_schema.properties
        assert all(p.get("description") for p in props.values()), spec.name
    quality = next(s for s in deployment_specs(get_config(), from_year=2026) if s.name == "quality")
    suite = build_deployment(quality, work_pool=None)._parameter_openapi_schema.properties["suite"]
    assert suite["anyOf"][0]["enum"][0] == "applications"
