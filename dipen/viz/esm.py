"""The live view's JavaScript as one ES module: anywidget sends ``_esm`` as text, which the
browser imports from a blob, where ``import ... from "./sibling.js"`` cannot resolve. The view
is written as several small modules; :func:`bundle` inlines each sibling a module imports.
"""

from __future__ import annotations

import pathlib
import re

__all__ = ["bundle"]

_IMPORT = re.compile(r'^import \{[^}]*\} from "\./([\w.-]+\.js)";\n', re.MULTILINE)
_EXPORT = re.compile(r"^export (?=function |const |class |let )", re.MULTILINE)


def bundle(path: pathlib.Path) -> str:
    """The text of the ES module at ``path`` with its imports of sibling modules
    (``import { name } from "./file.js";``) replaced by their text, without ``export``.

    Examples
    --------
    >>> import pathlib
    >>> from dipen.viz.esm import bundle
    >>> text = bundle(pathlib.Path(dipen.viz.__file__).parent / "view.js")
    >>> 'from "./' in text, "function mountStateGraph(" in text, "export default" in text
    (False, True, True)
    """
    seen: set[str] = set()

    def inline(match: re.Match[str]) -> str:
        name = match[1]
        if name in seen:
            return ""
        seen.add(name)
        return _EXPORT.sub("", (path.parent / name).read_text()) + "\n"

    return _IMPORT.sub(inline, path.read_text())
