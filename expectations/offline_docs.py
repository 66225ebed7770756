"""Data Docs that open without the internet (issue 24).

great-expectations' page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome
and Vega from public CDNs and the logo from S3: on an offline government network the
index stays blank. The project's Data Docs site draws its pages with the views below,
which put copies of those templates first, whose scripts and styles point at
`static/vendor/` of the site, where the same releases are copied from
`expectations/vendor/` (see VENDOR.md there). (A project's `plugins/custom_data_docs/views`
cannot do it: great-expectations looks its own templates up before those.)

The copies are made from the installed great-expectations' templates when a view is
made, so an upgrade keeps its own page layout; an asset URL this map does not know
fails the build (and the test), rather than a page that loads from the internet again.
"""
from __future__ import annotations

import re
import shutil
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

VENDOR_SOURCE = Path(__file__).resolve().parent / "vendor"

# Every asset URL of great-expectations' templates -> its file under static/vendor/.
ASSETS = {
    "https://cdn.jsdelivr.net/npm/vega@5": "vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-prefers-dark.min.css",
}

# The templates that load assets, and the footer that invites to a newsletter.
OVERRIDDEN = ("page.j2", "index_page.j2", "page_minimal.j2", "js_script_imports.j2", "top_navbar.j2")

# Where static/ is from the page being drawn: the same depths great-expectations'
# top_navbar.j2 uses for its images (a suite name's dots are folders).
_VENDOR_DIR = """{%- set zc_dots = expectation_suite_name.count(".") if expectation_suite_name else 0 -%}
{%- if "ValidationResults" in renderer_type or "ProfilingResults" in renderer_type -%}
  {%- set zc_vendor = ((zc_dots + 4) * "../") + "static/vendor/" -%}
{%- elif "ExpectationSuite" in renderer_type -%}
  {%- set zc_vendor = ((zc_dots + 1) * "../") + "static/vendor/" -%}
{%- else -%}
  {%- set zc_vendor = "./static/vendor/" -%}
{%- endif -%}
"""
_TAG = re.compile(r"<(?:script|link)\b[^>]*>")
_URL = re.compile(r'(src|href)="(https?://[^"]+)"')
_SRI = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"')
_STYLES = "data_docs_default_styles.css"
_CSS_URL = re.compile(r"url\('https?://[^']+'\)")
_S3_LOGO = re.compile(r'\{%\s*set static_images_dir = "https://[^"]+"\s*-?%\}')
_FOOTER = ("<footer class=\"text-muted small pt-2 pb-4 pl-5\">zhicheng 数据质量检查 · "
           "great-expectations Data Docs（离线可用）</footer>\n")


class UnknownAsset(RuntimeError):
    """A template loads something from the internet that ASSETS does not map."""


def _offline(template: str, name: str) -> str:
    def tag(m: re.Match) -> str:
        def url(u: re.Match) -> str:
            if u.group(2) not in ASSETS:
                raise UnknownAsset(f"{name} loads {u.group(2)}: add it to "
                                   "expectations/offline_docs.ASSETS and expectations/vendor/")
            return f'{u.group(1)}="{{{{ zc_vendor }}}}{ASSETS[u.group(2)]}"'
        return _SRI.sub("", _URL.sub(url, m.group(0)))
    text = _TAG.sub(tag, template)
    # the index has no images folder of its own in the stock template (it used S3)
    text = _S3_LOGO.sub('{% if "SiteIndex" in renderer_type %}{% set static_images_dir = '
                        '"./static/images/" -%}{% endif %}', text)
    return _VENDOR_DIR + text


@lru_cache(maxsize=1)
def offline_templates() -> dict[str, str]:
    """great-expectations' asset-loading templates, made offline, by name."""
    stock = files("great_expectations") / "render" / "view" / "templates"
    out = {name: _offline(stock.joinpath(name).read_text(encoding="utf-8"), name) for name in OVERRIDDEN}
    out["cloud-footer.j2"] = _FOOTER
    # great-expectations' favicon.j2 counts a validation page one folder short
    out["favicon.j2"] = (_VENDOR_DIR + '<link rel="shortcut icon" href="{{ zc_vendor }}'
                         '../images/favicon.ico" type="image/x-icon"/>\n')
    # the dark theme's logo is a background image from S3: without it, the page's own logo
    styles = files("great_expectations") / "render" / "view" / "static" / "styles"
    css = styles.joinpath(_STYLES).read_text(encoding="utf-8")
    out[_STYLES] = _CSS_URL.sub("none", css).replace("visibility:hidden", "visibility:visible")
    return out


def _offline_first(view) -> None:
    from jinja2 import ChoiceLoader, DictLoader
    view.env.loader = ChoiceLoader([DictLoader(offline_templates()), view.env.loader])


class OfflinePageView(DefaultJinjaPageView):
    """great-expectations' page view, drawing pages that load nothing from the internet."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        _offline_first(self)


class OfflineIndexPageView(DefaultJinjaIndexPageView):
    """The same for the site's index page."""

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        _offline_first(self)


def site_config(base_directory: str) -> dict:
    """A Data Docs site (great-expectations' SiteBuilder config) drawn with these views."""
    view = {"module_name": __name__, "class_name": "OfflinePageView"}
    return {"class_name": "SiteBuilder", "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": base_directory},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "show_cta_footer": False,
                                   "view": {"module_name": __name__,
                                            "class_name": "OfflineIndexPageView"}},
            "site_section_builders": {"expectations": {"view": view}, "validations": {"view": view},
                                      "profiling": {"view": view}}}


def copy_assets(site_dir: Path) -> None:
    """The vendored scripts, styles and fonts into the site's static/vendor/."""
    shutil.copytree(VENDOR_SOURCE, site_dir / "static" / "vendor", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.md"))
