"""Every `::: identifier` block of the docs names an object, not a module.

Where a module and the function it defines share a name
(`keras_ortho.regularizers.soft_orthogonality`), the package attribute is the
function but mkdocstrings resolves the identifier to the module, and renders
every object of the module: the page then shows the class and the function
twice. Naming the object in its module
(`keras_ortho.regularizers.soft_orthogonality.soft_orthogonality`) renders it
once. The strict docs build does not warn about this, hence this test.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API_BLOCK = re.compile(r"^:::\s*(\S+)", re.MULTILINE)


def _api_blocks():
    for page in sorted(DOCS.rglob("*.md")):
        for identifier in API_BLOCK.findall(page.read_text(encoding="utf-8")):
            yield page.relative_to(ROOT).as_posix(), identifier


def _is_module(identifier):
    path = ROOT.joinpath(*identifier.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_docs_have_api_blocks():
    assert list(_api_blocks())


@pytest.mark.parametrize(("page", "identifier"), list(_api_blocks()))
def test_api_block_names_an_object(page, identifier):
    assert not _is_module(identifier), (
        f"{page}: `::: {identifier}` names a module, so the page renders every "
        f"object of it; name the object: `::: {identifier}.<name>`"
    )
