"""Certificates laid out in worker processes, sealed in the issuing one.

Laying out a certificate (MuPDF, the chunk font, the QR code) is most of issuance's
time and pure CPU, so a chunk's certificates are shared among worker processes
(config/certificates.yaml `render_processes`, 0: one a core; one pool a process and
layout, zhicheng.worker_pools). The workers return
unsealed PDFs and the issuing process seals them: private keys never leave it. A chunk
too small to share, or one whose worker died (killed, out of memory), is laid out in
the issuing process; a dead pool is replaced for the next chunk.
"""
from __future__ import annotations

from collections.abc import Sequence

from zhicheng import worker_pools
from zhicheng.config.files import CertificatesFile
from zhicheng.issuance.pdf import CertificateContent, Renderer

MIN_SHARE = 16   # certificates a worker gets at least: fewer cost more to send than to lay out


class RenderPool:
    def __init__(self, settings: CertificatesFile) -> None:
        self.settings = settings
        self.processes = worker_pools.processes(settings.render_processes)
        self.local = Renderer(settings)
        self._key = ("render", settings.model_dump_json())

    def unsealed(self, contents: Sequence[CertificateContent], key_ids: Sequence[str]) -> list[bytes]:
        """Each certificate's PDF with its signature hole empty, in order."""
        shares = worker_pools.shares(len(contents), self.processes, MIN_SHARE)
        if shares >= 2:
            size = -(-len(contents) // shares)
            parts = [(list(contents[i:i + size]), list(key_ids[i:i + size]))
                     for i in range(0, len(contents), size)]
            got = worker_pools.run(self._key, self.processes, _start, (self.settings,), _lay_out, parts)
            if got is not None:
                return [pdf for part in got for pdf in part]
        self.local.prepare(contents)
        return [self.local.unsealed(c, key_id=k) for c, k in zip(contents, key_ids, strict=True)]


_RENDERER: Renderer | None = None


def _start(settings: CertificatesFile) -> None:
    global _RENDERER
    _RENDERER = Renderer(settings)


def _lay_out(part: tuple[list[CertificateContent], list[str]]) -> list[bytes]:
    contents, key_ids = part
    renderer = _RENDERER
    assert renderer is not None, "the pool's initializer (_start) made it"
    renderer.prepare(contents)
    return [renderer.unsealed(c, key_id=k) for c, k in zip(contents, key_ids, strict=True)]
