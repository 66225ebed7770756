"""Every file of config/ is typed: a misspelt key or a wrong type stops loading with the
file and the key named, and the shipped config/ loads."""
import shutil
from pathlib import Path

import pytest

from zhicheng.config import MODELS, ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]


def _broken(tmp_path: Path, file: str, old: str, new: str) -> Path:
    d = tmp_path / "config"
    shutil.copytree(REPO / "config", d)
    path = d / file
    path.parent.mkdir(exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    assert old in text, f"{file} no longer has {old!r}: update this test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return d


def test_the_shipped_config_loads_every_file_typed():
    config = load_config(REPO / "config")
    for name, model in MODELS.items():
        if name not in ("chains.yaml", "committees.yaml", "findings.yaml", "policy.yaml", "regions.yaml"):
            assert isinstance(getattr(config, name.removesuffix(".yaml")), model), name
    assert config.policy.chunks.push_hall == 100 and config.web.search_limit == 500


# (file, text in the shipped file, what it becomes, the key the message must name)
CASES = [
    ("automations.yaml", "notify_url_env:", "notify_url_envv:", "key notify_url_envv: Extra inputs"),
    ("automations.yaml", "when: {failed: year_end}", "when: {failed: year_end, attention: push}",
     "key automations.0.when: Value error, `when` needs exactly one"),
    ("certificates.yaml", "orphan_grace_minutes: 30", "orphan_grace_minutes: half an hour",
     "key orphan_grace_minutes: Input should be a valid number"),
    ("certificates.yaml", "mask_pattern: 2", "mask_pattern: 9", "key layout.qr.mask_pattern"),
    ("chains.yaml", "track_chains:", "track_chain:", "key track_chain: Extra inputs"),
    ("chains.yaml", "delegated: false", "delegated: maybe", "key review_chains.0.delegated"),
    ("findings.yaml", "    severity: error", "    severity: error\n    serverity: error",
     "key findings.submission.invalid.serverity: Extra inputs"),
    ("regions.yaml", '{code: "320000", name: 江苏省}', '{code: "320000", nmae: 江苏省}', "key regions.0.nmae"),
    ("connectors.yaml", "  max_attempts: 5", "  max_atempts: 5", "key defaults.max_atempts: Extra inputs"),
    ("connectors.yaml", "  chsi:", "  xuexin:", "key systems.xuexin"),
    ("deployments.yaml", "    every_minutes: 15", "    every_minute: 15", "key deployments.0.every_minute"),
    ("deployments.yaml", "concurrency: 4", "concurrency: many", "key deployments.9.concurrency"),
    ("education.yaml", "max_concurrency: 4", "max_concurency: 4", "key max_concurency: Extra inputs"),
    ("education.yaml", "answer_max_age_days: 30", "answer_max_age_days: 0", "key answer_max_age_days"),
    ("generator.yaml", "fault_rate: 0.15", "fault_rate: 1.5", "key generator.fault_rate"),
    ("generator.yaml", "scan_dpi: 150", "scan_dpis: 150", "key generator.scan_dpis"),
    ("materials.yaml", "scan_min_page_share: 0.5", "scan_min_page_share: 2", "key scan_min_page_share"),
    ("materials.yaml", "all: [employer_consent, commitment]", "all: [employer_consent, comitment]",
     "key (top level): Value error, required_materials.初定: unknown material type comitment"),
    ("publicity.yaml", "list_folder:", "list_folders:", "key list_folders: Extra inputs"),
    ("policy.yaml", "  publicity: 1000", "  publicity: 0", "key chunks.publicity"),
    ("web.yaml", "search_limit: 500", "search_limit: all", "key search_limit: Input should be a valid integer"),
    ("web.yaml", "  free_failures: 5", "  free_failure: 5", "key guesses.free_failure: Extra inputs"),
    ("policy.yaml", "  max_attempts: 8", "  max_attempts: 0", "key outbox.max_attempts"),
    ("policy.yaml", "  downloads_in_flight: 4", "  downloads_in_flight: 4\n  download_procs: 2",
     "key intake.download_procs: Extra inputs"),
    ("policy.yaml", "push_batch: 500", "push_batch: 501", "key chunks.push_batch"),
    ("policy.yaml", "    width_mm: 33", "    width_mm: wide", "key materials.photo.width_mm"),
]


@pytest.mark.parametrize("file, old, new, words", CASES, ids=[f"{c[0]}:{c[3].split(':')[0]}" for c in CASES])
def test_a_wrong_key_or_type_names_file_and_key(tmp_path, file, old, new, words):
    d = _broken(tmp_path, file, old, new)
    with pytest.raises(ConfigError) as err:
        load_config(d)
    assert str(err.value).startswith(f"{d / file}: "), str(err.value)
    assert words in str(err.value), str(err.value)


def test_every_file_has_a_case():
    assert {c[0] for c in CASES} == set(MODELS) - {"committees.yaml"}   # committees: test_cli_reference


def test_a_misspelt_file_name_is_refused(tmp_path):
    d = tmp_path / "config"
    shutil.copytree(REPO / "config", d)
    (d / "web.yaml").rename(d / "webb.yaml")
    with pytest.raises(ConfigError, match=r"webb.yaml: not a config file"):
        load_config(d)


def test_a_calendar_supplement_is_typed(tmp_path):
    d = tmp_path / "config"
    shutil.copytree(REPO / "config", d)
    (d / "calendar" / "2031.yaml").write_text(
        "year: 2031\nsource: 通知\nholidays: [2031-01-01]\nworkday: [2031-01-04]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"calendar/2031.yaml: key workday: Extra inputs"):
        load_config(d)
    (d / "calendar" / "2031.yaml").write_text(
        "year: 2031\nsource: 通知\nholidays: [2031-01-01]\nworkdays: [2031-01-04]\n", encoding="utf-8")
    assert [y.year for y in load_config(d).calendar] == [2031]
