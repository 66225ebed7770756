"""Suite `certificates`: numbers, documents, signatures and replacements.

Numbers come from the serial counters (gapless per issuer, year and level), except a
历史登记 that keeps the historic certificate's number, and a former platform's
certificate that entered the registry only to be revoked by a 补办/换发: those are
"given", and the serial checks leave them out. 历史登记 certificates have no PDF, so
the document checks leave them out too.

The lifecycle (docs/lifecycle.md): one valid certificate per person and qualification,
every replaced one revoked, and its revocation on its way to the province (queued, not
rejected or given up).
"""
from __future__ import annotations

from zhicheng.expectations.scope import of_year
from zhicheng.expectations.spec import Check, Params, Suite
from zhicheng.expectations.sql import Dialect, lit

REGISTER_TRACK = "历史登记"
_JOINS = ("LEFT JOIN applications a ON a.id = c.application_id "
          "LEFT JOIN application_revisions r ON r.application_id = a.id "
          "AND r.revision = a.current_revision")


def suite(p: Params) -> Suite:
    return Suite("certificates", "certificates", (
        _well_formed(p), _unique(p), _gapless(p), _allocated(p), _reach_counter(p),
        _dates(p), _status(p), _document(p), _document_file(p), _replaced(p), _one_valid(p),
        _revocation_delivered(p)))


# A former platform's certificate, in the registry only to be revoked by a 补办/换发.
# IN over an uncorrelated subquery, not a correlated EXISTS: the replaced numbers are
# read once (PostgreSQL's hashed subplan, SQLite's ephemeral index); EXISTS had
# PostgreSQL scan every certificate per certificate (no index on `replaces`).
_FORMER = ("(c.issuance_run_id IS NULL AND c.certificate_no IN (SELECT s.replaces FROM certificates s "
           "WHERE s.replaces IS NOT NULL))")


def _given(p: Params) -> str:
    return f"(a.track = '{REGISTER_TRACK}' OR {_FORMER})"


def _scope(p: Params) -> str:
    return "1 = 1" if p.batch_year is None else of_year("a", p)


def _numbered(p: Params) -> str:
    """Allocated certificates with the parts of their numbers (serial NULL if not digits).

    Written for PostgreSQL's planner at ten million certificates: `length(...) = 18` is
    guessed at 0.5% of the rows and a join to the counters on three computed parts at one
    row, which made it probe the applications' index once per certificate for its track.
    A LIKE of 18 single-character wildcards (the same rows) is estimated from the column's
    statistics, and the track is an anti-join, which the planner hashes."""
    serial = Dialect(p.dialect).int_of_digits("substr(c.certificate_no, 12, 6)")
    return ("(SELECT c.certificate_no, c.application_id, substr(c.certificate_no, 1, 6) AS issuer, "
            "substr(c.certificate_no, 7, 4) AS year_text, substr(c.certificate_no, 11, 1) AS level_text, "
            f"{serial} AS serial FROM {{batch}} c WHERE c.certificate_no LIKE '{'_' * 18}' "
            "AND NOT EXISTS (SELECT 1 FROM applications t WHERE t.id = c.application_id "
            f"AND t.track = '{REGISTER_TRACK}') AND NOT COALESCE({_FORMER}, FALSE))")


_COUNTER = ("k.issuer_region_code = n.issuer AND CAST(k.year AS TEXT) = n.year_text "
            "AND CAST(k.level_digit AS TEXT) = n.level_text")


def _well_formed(p: Params) -> Check:
    # SQL narrows a million numbers down to the suspect ones (shape, MOD 11-2, serial,
    # parts); zhicheng.domain.certificate_numbers judges those and says what is wrong.
    d = Dialect(p.dialect)
    level_digit = "CASE c.level " + " ".join(
        f"WHEN {lit(level)} THEN {lit(str(digit))}" for level, digit in p.config.policy.levels.items()) + " END"
    sound_parts = (f"(substr(c.certificate_no, 1, 6) = c.issuer_region_code "
                   f"AND substr(c.certificate_no, 7, 4) = {d.year_of('c.issued_on')} "
                   f"AND substr(c.certificate_no, 11, 1) = {level_digit})")
    given = f"COALESCE({_given(p)}, FALSE)"
    return Check(
        "number_well_formed", "证书编号18位、ISO 7064 MOD 11-2 校验码正确，地区码、年度、级别码与证书一致",
        f"SELECT c.certificate_no, c.application_id, c.issuer_region_code, c.issued_on, c.level, "
        f"CASE WHEN {given} THEN 0 ELSE 1 END AS allocated "
        f"FROM {{batch}} c {_JOINS} WHERE {_scope(p)} AND NOT ({d.mod11_2_ok('c.certificate_no')} "
        f"AND substr(c.certificate_no, 12, 6) <> '000000' AND ({given} OR COALESCE({sound_parts}, FALSE)))",
        rule="certificate_number", rule_args={"levels": dict(p.config.policy.levels)})


def _unique(p: Params) -> Check:
    return Check(
        "number_unique", "同一发证机关、年度、级别的流水号不重复",
        "SELECT substr(c.certificate_no, 1, 17) AS number_body, COUNT(*) AS certificates, "
        "MIN(c.certificate_no) AS certificate_no, MAX(c.certificate_no) AS other_certificate_no "
        "FROM {batch} c GROUP BY substr(c.certificate_no, 1, 17) HAVING COUNT(*) > 1")


def _gapless(p: Params) -> Check:
    # The counters join after the window, on the few rows that end a gap: before it,
    # PostgreSQL guessed one row out of its three computed parts and planned for that. The
    # same gaps: a number past its counter sorts after every allocated one of its group.
    return Check(
        "serials_gapless", "同一发证机关、年度、级别的流水号从1起连续，没有空号",
        "SELECT g.issuer, g.year_text AS year, g.level_text AS level_digit, "
        "g.previous_serial + 1 AS first_missing, g.serial - 1 AS last_missing, "
        "g.certificate_no AS next_certificate_no FROM (SELECT n.issuer, n.year_text, n.level_text, "
        "n.serial, n.certificate_no, LAG(n.serial, 1, 0) OVER (PARTITION BY n.issuer, n.year_text, "
        f"n.level_text ORDER BY n.serial) AS previous_serial FROM {_numbered(p)} n "
        "WHERE n.serial IS NOT NULL) g "
        "JOIN serial_counters k ON k.issuer_region_code = g.issuer AND CAST(k.year AS TEXT) = g.year_text "
        "AND CAST(k.level_digit AS TEXT) = g.level_text "
        "WHERE g.serial < k.next_serial AND g.serial > g.previous_serial + 1")


def _allocated(p: Params) -> Check:
    return Check(
        "numbers_from_counters", "每个编号的流水号都由发证计数器分配（有计数器且小于其下一个号）",
        f"SELECT n.certificate_no, n.application_id, n.serial, k.next_serial FROM {_numbered(p)} n "
        f"LEFT JOIN serial_counters k ON {_COUNTER} WHERE k.next_serial IS NULL "
        "OR n.serial IS NULL OR n.serial < 1 OR n.serial >= k.next_serial")


def _reach_counter(p: Params) -> Check:
    return Check(
        "serials_reach_counter", "计数器已分配的最后一个流水号有证书（末尾没有空号）",
        "SELECT k.issuer_region_code AS issuer, k.year, k.level_digit, k.next_serial - 1 AS allocated, "
        f"MAX(n.serial) AS highest_serial FROM serial_counters k LEFT JOIN {_numbered(p)} n "
        f"ON {_COUNTER} AND n.serial < k.next_serial "
        "GROUP BY k.issuer_region_code, k.year, k.level_digit, k.next_serial "
        "HAVING COALESCE(MAX(n.serial), 0) < k.next_serial - 1")


def _dates(p: Params) -> Check:
    return Check(
        "issued_not_before_approval", "发证日期不早于批准日期",
        f"SELECT c.certificate_no, c.application_id, c.approved_on, c.issued_on FROM {{batch}} c "
        f"{_JOINS} WHERE {_scope(p)} AND c.issued_on < c.approved_on")


def _status(p: Params) -> Check:
    return Check(
        "status_consistent", "状态是 valid 或 revoked，撤销的证书有撤销时间，有效的没有",
        f"SELECT c.certificate_no, c.application_id, c.status, c.revoked_at FROM {{batch}} c "
        f"{_JOINS} WHERE {_scope(p)} AND (c.status NOT IN ('valid', 'revoked') "
        "OR (c.status = 'revoked' AND c.revoked_at IS NULL) "
        "OR (c.status = 'valid' AND c.revoked_at IS NOT NULL))")


def _with_document(p: Params) -> str:
    return (f"{_scope(p)} AND c.status = 'valid' "
            f"AND COALESCE(a.track, '') <> '{REGISTER_TRACK}'")


def _document(p: Params) -> Check:
    return Check(
        "valid_has_document_and_signature",
        "每张有效证书（历史登记除外）都有 PDF 路径、SHA-256、验证码和发证机关的签名密钥",
        f"SELECT c.certificate_no, c.application_id, c.document_path, c.document_sha256, c.key_id, "
        f"c.verification_code FROM {{batch}} c {_JOINS} WHERE {_with_document(p)} AND ("
        "c.document_path IS NULL OR c.document_sha256 IS NULL OR length(c.document_sha256) <> 64 "
        "OR c.verification_code IS NULL OR c.key_id IS NULL "
        "OR substr(c.key_id, 1, 7) <> c.issuer_region_code || '-')")


def _document_file(p: Params) -> Check:
    return Check(
        "document_file_exists", "每张有效证书的 PDF 文件在工作区（ZHICHENG_HOME）中存在",
        f"SELECT c.certificate_no, c.application_id, c.document_path AS path FROM {{batch}} c "
        f"{_JOINS} WHERE {_with_document(p)} AND c.document_path IS NOT NULL",
        rule="file_exists", rule_args={"home": str(p.home)})


def _replaced(p: Params) -> Check:
    return Check(
        "replaced_are_revoked", "被补办、换发取代的证书已撤销",
        f"SELECT c.certificate_no, c.application_id, c.replaces, o.status AS replaced_status "
        f"FROM {{batch}} c JOIN certificates o ON o.certificate_no = c.replaces "
        f"{_JOINS} WHERE {_scope(p)} AND o.status <> 'revoked'")


def _one_valid(p: Params) -> Check:
    # no ID number in the rows: they are shown in Data Docs (docs/privacy.md)
    return Check(
        "one_valid_per_title", "每人每个资格只有一张有效证书（补办、换发后原证书已撤销）",
        "SELECT MIN(c.certificate_no) AS certificate_no, MAX(c.certificate_no) AS other_certificate_no, "
        "c.qualification_name, COUNT(*) AS valid_certificates FROM {batch} c WHERE c.status = 'valid' "
        "GROUP BY c.holder_id_number, c.qualification_name HAVING COUNT(*) > 1")


def _revocation_delivered(p: Params) -> Check:
    return Check(
        "replaced_revocation_sent", "被补办、换发取代的证书，其撤销记录已进入省平台推送队列且未被拒收或放弃",
        "SELECT c.certificate_no, c.version, o.status AS outbox_status FROM {batch} c "
        "LEFT JOIN outbox o ON o.target = 'province' "
        "AND o.dedupe_key = c.certificate_no || ':' || 'v' || CAST(c.version AS VARCHAR(12)) "  # no :v bind
        # IN, not a correlated EXISTS: certificates.replaces has no index, and SQLite ran the
        # EXISTS as a scan of the registry for every revoked certificate (125 s of CPU at
        # 100,000 applications); the IN list it builds once (0.06 s)
        "WHERE c.status = 'revoked' AND c.certificate_no IN (SELECT s.replaces FROM certificates s "
        "WHERE s.replaces IS NOT NULL) AND (o.id IS NULL OR o.status IN ('rejected', 'dead'))")
