"""MkDocs hooks: API pages from module names, and README sections shown as pages.

* Every nav entry ``api/MODULE.md`` that has no file becomes a page holding
  ``::: MODULE`` (mkdocstrings renders it from the docstrings), so a new module
  appears in the reference with one line in ``mkdocs.yml``.
* ``<!-- readme: TITLE -->`` in a page is replaced by the README's section whose
  heading starts with ``## TITLE`` (to the next ``## ``), so the README and the
  site say the same thing from one source.  Links into the repository
  (``src/...``) become plain text and ``docs/`` is dropped from image paths.
"""

import pathlib
import re

from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKER = re.compile(r"<!-- readme: (.+?) -->")
#: the README's own sections that are pages of the site
PAGES = {"#coming-from-keras": "keras.md", "#command-line": "cli.md",
         "#glassnet-lab-play-with-a-network-in-the-browser": "lab.md"}


def _nav_paths(items):
    for item in items or ():
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for value in item.values():
                if isinstance(value, str):
                    yield value
                else:
                    yield from _nav_paths(value)


def on_files(files, config):
    for path in _nav_paths(config["nav"]):
        if path.startswith("api/") and path.endswith(".md") and files.get_file_from_path(
                path) is None:
            module = path[len("api/"):-len(".md")]
            files.append(File.generated(config, path, content=f"::: {module}\n"))
    return files


def readme_section(title):
    """The README's section ``## title...`` (its heading and body), or ValueError."""
    text = README.read_text(encoding="utf-8")
    if title == "top":                       # the front part, up to the first section
        return text.split("\n## ", 1)[0].split("\n", 1)[1]
    parts = re.split(r"(?m)^(?=## )", text)
    found = [part for part in parts if part.startswith("## " + title)]
    if len(found) != 1:
        raise ValueError(f"README.md has {len(found)} sections starting '## {title}'")
    return found[0]


def _site_links(markdown):
    # [text](src/...) -> text: the source is not part of the site
    markdown = re.sub(r"\[([^\]]+)\]\((?!https?:|#|docs/)[^)]+\)", r"\1", markdown)
    markdown = re.sub(r"\]\(docs/", "](", markdown)
    return re.sub(r"\]\((#[^)]+)\)", lambda m: f"]({PAGES.get(m.group(1), m.group(1))})",
                  markdown)


def on_page_markdown(markdown, page, config, files):
    return MARKER.sub(lambda m: _site_links(readme_section(m.group(1))), markdown)


#: a reST role in a docstring as the page shows it: :class:`~glassnet.trace.Trace`
ROLE = re.compile(r":(?:class|meth|func|mod|data|attr|obj|exc):<code>(~?)([\w.]+)</code>")


def _role_link(match, page, files):
    short, target = match.group(1), match.group(2)
    text = target.rsplit(".", 1)[-1] if short else target
    parts = target.split(".")
    for n in range(len(parts), 0, -1):
        module = ".".join(parts[:n])
        found = files.get_file_from_path(f"api/{module}.md")
        if found is not None:
            href = found.url_relative_to(page.file)
            anchor = "" if module == target else f"#{target}"
            return f'<a href="{href}{anchor}"><code>{text}</code></a>'
    return f"<code>{text}</code>"


def on_page_content(html, page, config, files):
    """Docstrings' reST roles (Sphinx's ``:class:`X```) as code, linked to the API page."""
    return ROLE.sub(lambda m: _role_link(m, page, files), html)
