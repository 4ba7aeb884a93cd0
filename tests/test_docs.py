"""The documentation site builds from the repository, warnings as errors, with what it promises.

``mkdocs build --strict`` runs the tutorial notebooks (mkdocs-jupyter) and renders the API
reference from the docstrings (mkdocstrings); skipped without the ``docs`` extra.
"""
import html
import os
import pathlib
import re
import subprocess
import sys

import pytest

import glassnet as gn

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / "mkdocs.yml"
README = (ROOT / "README.md").read_text(encoding="utf-8")
SRC = ROOT / "src"


def _hooks():
    pytest.importorskip("mkdocs")
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import hooks
    finally:
        sys.path.remove(str(ROOT / "docs"))
    return hooks


def _api_modules():
    return re.findall(r"^\s+- ([\w.]+): api/\1\.md$", CONFIG.read_text(), flags=re.M)


# -- the configuration, without building ----------------------------------------------------

def test_every_api_page_names_a_module_that_exists():
    modules = _api_modules()
    assert "glassnet" in modules and "glassnet.notebook" in modules
    for name in modules:
        path = SRC.joinpath(*name.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), (
            f"mkdocs.yml's API reference names {name}, which is not a module of src/ any "
            f"more: remove or rename its line")


def test_every_public_module_of_glassnet_has_an_api_page():
    public = [f"glassnet.{name}" for name in gn.__all__
              if type(getattr(gn, name)).__name__ == "module"]
    missing = sorted(set(public) - set(_api_modules()))
    assert missing == [], f"add a line per module to the API reference in mkdocs.yml: {missing}"


@pytest.mark.parametrize("title", ["Coming from Keras", "Command line", "glassnet lab",
                                   "The demos", "Look inside", "Set-up"])
def test_readme_sections_are_shown_unchanged(title):
    section = _hooks().readme_section(title)
    assert section.startswith("## " + title) and section in README
    # the whole section: up to the next one
    rest = README.split(section, 1)[1]
    assert rest.startswith("## ") or rest == ""


def test_readme_links_become_site_links():
    links = _hooks()._site_links(
        "see [`layers.py`](src/glassnet/layers.py), ![lab](docs/lab.png), "
        "[Keras](#coming-from-keras), [web](https://numpy.org) and [x](#performance)")
    assert links == ("see `layers.py`, ![lab](lab.png), [Keras](keras.md), "
                     "[web](https://numpy.org) and [x](#performance)")


def test_a_missing_readme_section_is_an_error():
    with pytest.raises(ValueError, match="0 sections"):
        _hooks().readme_section("No such section")


# -- the build ----------------------------------------------------------------------------------

def _text(path):
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.skipif(os.environ.get("GLASSNET_FAST") == "1",
                    reason="the site does not depend on the fast path; the first run builds it")
def test_the_site_builds_strictly_with_executed_tutorials_and_the_api(tmp_path):
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter",
                   "nbclient", "ipykernel", "matplotlib"):
        pytest.importorskip(module)
    site = tmp_path / "site"
    # Fashion-MNIST made absent: its tutorial must fall back to the digits, and builds faster
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "GLASSNET_DOCS_EXECUTE": "true",
           "GLASSNET_FASHION_MNIST": str(tmp_path / "absent"),
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                             str(CONFIG), "-d", str(site)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-5000:]
    # the front page: the README's top and its two set-up commands, verbatim
    front = _text(site / "index.html")
    for command in re.findall(r"```bash\n(python3 -m venv .*)\n```", README)[:2]:
        assert command in front
    assert "Where each equation lives" in front
    # the README's sections as pages, its source links as text
    keras = _text(site / "keras" / "index.html")
    assert "Where glassnet chooses otherwise, and why" in keras
    assert 'href="src/' not in (site / "index.html").read_text()
    # each tutorial ran: its outputs, and the glass box as HTML tables
    pages = {p.parent.name: p.read_text(encoding="utf-8")
             for p in (site / "tutorials").glob("*/index.html")}
    assert sorted(pages) == ["01-one-neuron", "02-hidden-layer", "03-digits", "04-fashion-mnist"]
    assert "z and a agree with the hand computation" in pages["01-one-neuron"]
    assert "the gradient is xᵀ·δ, as the trace says" in pages["01-one-neuron"]
    assert "δ of the output layer · Wᵀ" in pages["02-hidden-layer"]
    for name, page in pages.items():
        assert 'class="glassnet glassnet-trace glassnet-forward"' in page, name
        assert 'class="glassnet glassnet-summary"' in page, name
    fashion = _text(site / "tutorials" / "04-fashion-mnist" / "index.html")
    assert ("Note: Fashion-MNIST is not installed here, so this page uses the embedded 8×8 "
            "digits instead." in fashion)
    assert "the embedded digits: 1438 training and 359 test images of 8×8" in fashion
    assert "shape (64, 128)" in fashion                  # the trace, of the digits' 64 inputs
    # the API reference, from the docstrings: the notebook module and a layer's equations
    api = _text(site / "api" / "glassnet.notebook" / "index.html")
    assert "LivePlot" in api and "Redraw the training curves" in api
    layers = _text(site / "api" / "glassnet.layers" / "index.html")
    assert "Dense" in layers and "backward" in layers
    # Sphinx roles in docstrings become code linking to their API page
    front_api = (site / "api" / "glassnet" / "index.html").read_text(encoding="utf-8")
    assert ":class:<code>" not in front_api and ":mod:<code>" not in front_api
    assert '<a href="../glassnet.losses/"><code>glassnet.losses</code></a>' in front_api
