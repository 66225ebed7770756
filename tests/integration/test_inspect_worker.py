"""The inspector's worker: every answer is about the file asked (whatever the worker or
MuPDF prints, whatever breaks the protocol), and the worker holds no secret and runs
under hard limits."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import hostile_pdfs as h
from misbehaving_worker import inspector as misbehaving
from zhicheng.files.pdf_inspect import Inspector, InspectLimits, text_of

def write(folder: Path, files: list[tuple[bytes, bool]], prefix: str = "ok") -> list[tuple[Path, bool]]:
    out = []
    for n, (data, photo) in enumerate(files):
        path = folder / f"{prefix}-{n}"
        path.write_bytes(data)
        out.append((path, photo))
    return out


def assert_own(path: Path, seen) -> None:
    """The answer is about this file: its size and SHA-256."""
    data = path.read_bytes()
    assert (seen.size, seen.sha256) == (len(data), hashlib.sha256(data).hexdigest()), path.name


@pytest.mark.slow
def test_the_file_that_made_mupdf_print_followed_by_many_ordinary_ones(tmp_path):
    """The hostile file of issue 19 (on a busy machine MuPDF printed on the worker's
    stdout, and every later file got an earlier file's answer): each answer is its own
    file's, whatever became of the worker on the hostile one."""
    (tmp_path / "hostile").write_bytes(h.stroked_paths())
    files = write(tmp_path, h.ordinary_files(40))
    with Inspector(InspectLimits()) as ins:
        hostile = ins.inspect(tmp_path / "hostile", photo=False)
        seen = [(path, ins.inspect(path, photo=photo)) for path, photo in files]
    assert_own(tmp_path / "hostile", hostile)
    for path, got in seen:
        assert_own(path, got)
        assert got.unsafe is None and got.opens


def test_junk_on_the_workers_own_stdout_and_stderr_never_reaches_the_answers(tmp_path):
    files = write(tmp_path, h.ordinary_files(12))
    with misbehaving("noisy") as ins:
        seen = [(path, ins.inspect(path, photo=photo)) for path, photo in files[:6]]
        pid = ins.pid
        seen += [(path, ins.inspect(path, photo=photo)) for path, photo in files[6:]]
        text = ins.text(files[1][0])
        assert ins.pid == pid   # nothing went wrong: the same worker answered all
    for path, got in seen:
        assert_own(path, got)
        assert got.unsafe is None
    assert text and text == text_of(files[1][0].read_bytes(), InspectLimits())


@pytest.mark.parametrize("fault", ["garbage", "notjson", "stale", "other", "hangup"])
def test_a_protocol_fault_discards_the_worker_and_the_file_is_unreadable(tmp_path, fault):
    before, after = write(tmp_path, h.ordinary_files(4))[:2], write(tmp_path, h.ordinary_files(4))[2:]
    bad = tmp_path / f"{fault}.pdf"
    bad.write_bytes(h.text_pdf(2))
    with misbehaving("faulty") as ins:
        first = [(path, ins.inspect(path, photo=photo)) for path, photo in before]
        pid = ins.pid
        seen = ins.inspect(bad, photo=False)
        assert ins.pid is None   # the worker that broke the protocol is gone
        rest = [(path, ins.inspect(path, photo=photo)) for path, photo in after]
        assert ins.pid not in (None, pid)
        assert ins.text(bad) == ""
    assert seen.unsafe == "unreadable"
    assert_own(bad, seen)
    for path, got in first + rest:
        assert_own(path, got)
        assert got.unsafe is None


def test_a_late_second_answer_does_not_become_the_next_files(tmp_path):
    """A worker that answers twice leaves an answer waiting: the next file's request
    reads it, sees another id, and asks a fresh worker (the next file is innocent)."""
    twice = tmp_path / "twice.pdf"
    twice.write_bytes(h.text_pdf(3))
    files = write(tmp_path, h.ordinary_files(4))
    with misbehaving("faulty") as ins:
        first = ins.inspect(twice, photo=False)
        pid = ins.pid
        seen = [(path, ins.inspect(path, photo=photo)) for path, photo in files]
        assert ins.pid != pid
    assert_own(twice, first) and first.pages == 3
    for path, got in seen:
        assert_own(path, got)
        assert got.unsafe is None


def test_a_worker_dying_mid_answer_is_a_crash_and_the_next_file_is_answered(tmp_path):
    partial = tmp_path / "partial.pdf"
    partial.write_bytes(h.text_pdf())
    (ok, photo), = write(tmp_path, h.ordinary_files(1))
    with misbehaving("faulty") as ins:
        dead = ins.inspect(partial, photo=False)
        after = ins.inspect(ok, photo=photo)
    assert dead.unsafe == "crash"
    assert_own(partial, dead)
    assert_own(ok, after)


def test_a_worker_that_has_spent_its_cpu_budget_is_replaced_between_files(tmp_path):
    """A worker reporting less CPU left than a file may take is retired after its
    answer: hard limits cannot be raised, so a fresh worker takes the next file."""
    files = write(tmp_path, h.ordinary_files(3))
    with misbehaving("spent") as ins:
        seen = []
        for path, photo in files:
            seen.append((path, ins.inspect(path, photo=photo)))
            assert ins.pid is None   # retired after its answer
    for path, got in seen:
        assert_own(path, got)
        assert got.unsafe is None


def test_the_worker_holds_no_secret_and_runs_under_hard_limits(tmp_path, monkeypatch):
    secrets = {"ZHICHENG_HALL_APP_SECRET": "hall-secret-8d1f0c", "ZHICHENG_DATABASE_URL":
               "postgresql://app:db-password-77c1@db/zhicheng", "HTTPS_PROXY": "http://u:proxy-pw-19ab@proxy:3128",
               "AWS_SECRET_ACCESS_KEY": "aws-secret-5e2b"}
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    (path, photo), = write(tmp_path, h.ordinary_files(1))
    limits = InspectLimits(seconds_per_file=5, memory_mb=256, worker_cpu_seconds=120)
    with Inspector(limits) as ins:
        assert_own(path, ins.inspect(path, photo=photo))   # it has set its limits: it answered
        pid = ins.pid
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        table = _limits(Path(f"/proc/{pid}/limits").read_text())
        stdio = [Path(f"/proc/{pid}/fd/{fd}").resolve() for fd in (0, 1, 2)]
    names = {entry.split(b"=", 1)[0].decode() for entry in environ.split(b"\0") if entry}
    assert names <= {"PATH", "LANG", "LC_ALL"}
    assert not any(value.encode() in environ for value in secrets.values())
    assert stdio == [Path("/dev/null")] * 3
    for name in ("Max cpu time", "Max address space", "Max file size", "Max processes", "Max core file size"):
        assert table[name][1] != "unlimited", name
    assert table["Max file size"] == table["Max processes"] == table["Max core file size"] == ("0", "0")
    soft_as, hard_as = map(int, table["Max address space"])
    assert soft_as == hard_as and hard_as < (256 + 2048) * 2**20
    soft_cpu, hard_cpu = map(int, table["Max cpu time"])
    assert soft_cpu < hard_cpu <= 120 + 60   # a file's budget below the worker's lifetime budget


def _limits(text: str) -> dict[str, tuple[str, str]]:
    """/proc/<pid>/limits: name -> (soft, hard)."""
    out = {}
    for line in text.splitlines()[1:]:
        name, soft, hard = line[:26].strip(), line[26:47].strip(), line[47:68].strip()
        out[name] = (soft, hard)
    return out
