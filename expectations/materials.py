"""Suite `materials`: the files of each accepted application's current revision."""
from __future__ import annotations

from zhicheng.expectations.scope import accepted
from zhicheng.expectations.spec import Check, Params, Suite
from zhicheng.expectations.sql import in_list, lit

_ROW = "m.application_id, a.submission_id, m.material_id, m.type"
_FROM = ("FROM {batch} m JOIN applications a ON a.id = m.application_id "
         "AND m.revision = a.current_revision")


def suite(p: Params) -> Suite:
    return Suite("materials", "materials", (_size(p), _hash(p), _stored(p)))


def _size(p: Params) -> Check:
    limits = p.config.policy.materials
    small, large = limits.max_attachment_kb * 1024, limits.large_attachment_kb * 1024
    limit = f"CASE WHEN m.type IN {in_list(limits.large_types)} THEN {lit(large)} ELSE {lit(small)} END"
    size = "COALESCE(m.size, m.declared_size)"
    return Check(
        "size_within_limits", "材料大小不超过 policy.yaml materials 的上限（业绩、奖项、论文另有上限）",
        f"SELECT {_ROW}, {size} AS size, {limit} AS limit_bytes {_FROM} "
        f"WHERE {accepted('a', p)} AND {size} > {limit}")


def _hash(p: Params) -> Check:
    return Check(
        "hash_present", "每份材料都有 SHA-256（64位十六进制）",
        f"SELECT {_ROW}, m.sha256 {_FROM} WHERE {accepted('a', p)} "
        f"AND (m.sha256 IS NULL OR length(m.sha256) <> 64)")


def _stored(p: Params) -> Check:
    return Check(
        "file_stored", "每份材料的文件在工作区（ZHICHENG_HOME）中存在",
        f"SELECT {_ROW}, m.storage_path AS path {_FROM} WHERE {accepted('a', p)}",
        rule="file_exists", rule_args={"home": str(p.home)})
